#pragma once
/// Language-model scores, shared by every text model and baseline so their
/// figures read the same. From the mean negative log-likelihood per predicted
/// symbol (each character of a name and its stop symbol, scored once), in nats:
///   nll         nats per character
///   bpc         bits per character, nll / ln 2
///   perplexity  exp(nll): the number of equally likely choices the model is
///               as unsure as, on average (31 symbols: a uniform guess over the
///               30 predictable ones scores 30)
#include <cmath>

namespace tandem::text {

inline double bits_per_char(double nats_per_char) { return nats_per_char / std::log(2.0); }
inline double perplexity(double nats_per_char) { return std::exp(nats_per_char); }

}  // namespace tandem::text
