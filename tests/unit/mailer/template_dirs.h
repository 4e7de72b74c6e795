#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "templating/template_set.h"

namespace inkwell::mailer {

// The repo's templates/email folder (what the mailer loads), loaded once per call.
inline templating::TemplateSet RepoTemplates() {
  auto templates =
      templating::TemplateSet::Load(std::filesystem::path(INKWELL_TEST_TEMPLATE_DIR) / "email");
  if (!templates) throw std::runtime_error(templates.error().message);
  return std::move(*templates);
}

// A fresh template folder under the system temp dir, removed at the end.
class TempTemplateDir {
 public:
  TempTemplateDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "inkwell-mailer-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  TempTemplateDir(const TempTemplateDir&) = delete;
  TempTemplateDir& operator=(const TempTemplateDir&) = delete;
  ~TempTemplateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  void Write(const std::string& relative, const std::string& content) const {
    std::filesystem::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << content;
  }
  // Its email/ subfolder, as the mailer loads it.
  templating::TemplateSet Load() const {
    auto templates = templating::TemplateSet::Load(path_ / "email");
    if (!templates) throw std::runtime_error(templates.error().message);
    return std::move(*templates);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace inkwell::mailer
