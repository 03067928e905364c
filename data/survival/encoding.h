#pragma once
/// How the columns of a survival CSV file become the model's inputs: numeric
/// columns as they are (missing cells imputed with the training mean when
/// asked), categorical columns one-hot over the levels seen in training. It is
/// fitted on the training rows and travels with the model (as YAML text in a
/// buffer), so `tandem predict` needs only the checkpoint and the new rows.
#include <string>
#include <vector>

namespace tandem::data {

struct FeatureEncoding {
  struct Column {
    std::string name;
    bool categorical = false;
    double mean = 0;                  ///< numeric: training mean (for imputation)
    std::vector<std::string> levels;  ///< categorical: sorted training levels
  };
  std::vector<Column> columns;

  /// One name per encoded column ("sex=1" for a level).
  std::vector<std::string> feature_names() const;
  /// Numeric columns named `names` (data sets without categorical columns).
  static FeatureEncoding numeric(const std::vector<std::string>& names);

  /// YAML text that from_yaml reads back exactly (means with 17 digits).
  std::string to_yaml() const;
  /// BadInput naming `where` when the text is not such an encoding.
  static FeatureEncoding from_yaml(const std::string& text, const std::string& where);
};

}  // namespace tandem::data
