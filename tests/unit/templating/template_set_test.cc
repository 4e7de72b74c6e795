#include "templating/template_set.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace inkwell::templating {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "inkwell-templates-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  void Write(const fs::path& relative, const std::string& content) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << content;
  }

 private:
  fs::path path_;
};

TemplateSet RepoTemplates() {
  auto templates = TemplateSet::Load(INKWELL_TEST_TEMPLATE_DIR);
  EXPECT_TRUE(templates) << templates.error().message;
  return templates ? std::move(*templates) : TemplateSet();
}

TEST(TemplateSetTest, LoadsRepoTemplatesByRelativeNameWithoutExtension) {
  const TemplateSet templates = RepoTemplates();

  EXPECT_TRUE(templates.Contains("email/welcome.subject"));
  EXPECT_TRUE(templates.Contains("email/welcome.txt"));
  EXPECT_TRUE(templates.Contains("email/welcome.html"));
  EXPECT_TRUE(templates.Contains("web/register.html"));
  EXPECT_TRUE(templates.Contains("web/error.html"));
  EXPECT_FALSE(templates.Contains("email/welcome.html.mustache"));
  EXPECT_FALSE(templates.Contains("nope"));
}

TEST(TemplateSetTest, RendersRepoPageWithPartials) {
  const TemplateSet templates = RepoTemplates();

  auto page = templates.Render("web/error.html", {{"title", "Not found"}, {"message", "Gone."}});

  ASSERT_TRUE(page) << page.error().message;
  EXPECT_NE(page->find("<!doctype html>"), std::string::npos);  // from web/head
  EXPECT_NE(page->find("<title>Not found · inkwell</title>"), std::string::npos) << *page;
  EXPECT_NE(page->find("<p class=\"lead\">Gone.</p>"), std::string::npos) << *page;
  EXPECT_NE(page->find("</html>"), std::string::npos);  // from web/foot
}

TEST(TemplateSetTest, DoubleBracesEscapeHtmlAndTripleBracesDoNot) {
  TempDir dir;
  dir.Write("t.mustache", "[{{x}}] [{{{x}}}]");
  auto templates = TemplateSet::Load(dir.path());
  ASSERT_TRUE(templates) << templates.error().message;

  auto rendered = templates->Render("t", {{"x", "<b a=\"1\">&'</b>"}});

  ASSERT_TRUE(rendered) << rendered.error().message;
  const std::string escaped = rendered->substr(0, rendered->find("] ["));
  const std::string raw = rendered->substr(rendered->find("] [") + 2);
  EXPECT_EQ(escaped.find('<'), std::string::npos) << *rendered;
  EXPECT_NE(escaped.find("&lt;b a=&quot;1&quot;&gt;&amp;"), std::string::npos) << *rendered;
  EXPECT_EQ(raw, "[<b a=\"1\">&'</b>]");
}

TEST(TemplateSetTest, RepoRegisterPageEscapesSubmittedName) {
  const TemplateSet templates = RepoTemplates();

  auto page = templates.Render("web/register.html",
                               {{"title", "Register"}, {"name", "\"><script>alert(1)</script>"}});

  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(page->find("<script>"), std::string::npos);
  EXPECT_NE(page->find("&lt;script&gt;"), std::string::npos);
}

TEST(TemplateSetTest, MissingValueRendersEmptyAndSectionIsSkipped) {
  TempDir dir;
  dir.Write("t.mustache", "a{{missing}}b{{#flag}}c{{/flag}}d");
  auto templates = TemplateSet::Load(dir.path());
  ASSERT_TRUE(templates);

  auto without = templates->Render("t", TemplateValues{});
  auto with = templates->Render("t", {{"flag", "yes"}});

  ASSERT_TRUE(without && with);
  EXPECT_EQ(*without, "abd");
  EXPECT_EQ(*with, "abcd");
}

TEST(TemplateSetTest, StructuredViewRendersListsBooleansObjectsAndEscapes) {
  TempDir dir;
  dir.Write("t.mustache",
            "{{#items}}[{{name}}:{{n}}{{#on}}!{{/on}}]{{/items}}{{^items}}none{{/items}}"
            "{{#who}}<{{name}}>{{/who}}{{{raw}}}{{nothing}}");
  auto templates = TemplateSet::Load(dir.path());
  ASSERT_TRUE(templates);

  auto rendered = templates->RenderView(
      "t", nlohmann::json{{"items", {{{"name", "a<b"}, {"n", 1}, {"on", true}}, {{"name", "c"}, {"n", 2.5}, {"on", false}}}},
                          {"who", {{"name", "Ada"}}},
                          {"raw", "<i>x</i>"},
                          {"nothing", nullptr}});
  auto empty = templates->RenderView("t", nlohmann::json{{"items", nlohmann::json::array()}});

  ASSERT_TRUE(rendered && empty);
  EXPECT_EQ(*rendered, "[a&lt;b:1!][c:2.5]<Ada><i>x</i>");
  EXPECT_EQ(*empty, "none");
}

TEST(TemplateSetTest, NestedAndSelfReferencingPartialsRender) {
  TempDir dir;
  dir.Write("page.mustache", "[{{> parts/head}}|{{>parts/foot}}]");
  dir.Write("parts/head.mustache", "H{{> parts/inner }}");
  dir.Write("parts/inner.mustache", "i{{#more}}{{> parts/inner}}{{/more}}");
  dir.Write("parts/foot.mustache", "F");
  dir.Write("unrelated.mustache", "{{> missing}}U");
  auto templates = TemplateSet::Load(dir.path());
  ASSERT_TRUE(templates);

  auto page = templates->Render("page", TemplateValues{});
  auto unrelated = templates->Render("unrelated", TemplateValues{});

  ASSERT_TRUE(page && unrelated);
  EXPECT_EQ(*page, "[Hi|F]");
  EXPECT_EQ(*unrelated, "U");
}

TEST(TemplateSetTest, IgnoresFilesWithOtherExtensions) {
  TempDir dir;
  dir.Write("t.mustache", "x");
  dir.Write("notes.txt", "y");
  dir.Write("t.mustache.bak", "z");
  auto templates = TemplateSet::Load(dir.path());
  ASSERT_TRUE(templates);

  EXPECT_TRUE(templates->Contains("t"));
  EXPECT_FALSE(templates->Contains("notes"));
  EXPECT_FALSE(templates->Contains("t.mustache"));
}

TEST(TemplateSetTest, UnknownNameIsNotFound) {
  const TemplateSet templates = RepoTemplates();

  auto rendered = templates.Render("email/goodbye.txt", TemplateValues{});

  ASSERT_FALSE(rendered);
  EXPECT_EQ(rendered.error().code, core::ErrorCode::kNotFound);
  EXPECT_NE(rendered.error().message.find("email/goodbye.txt"), std::string::npos);
}

TEST(TemplateSetTest, MissingFolderIsUnavailable) {
  TempDir dir;

  auto templates = TemplateSet::Load(dir.path() / "does-not-exist");

  ASSERT_FALSE(templates);
  EXPECT_EQ(templates.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(templates.error().message.find("does-not-exist"), std::string::npos);
}

TEST(TemplateSetTest, FolderWithoutTemplatesIsInvalidArgument) {
  TempDir dir;
  dir.Write("readme.txt", "no templates here");

  auto templates = TemplateSet::Load(dir.path());

  ASSERT_FALSE(templates);
  EXPECT_EQ(templates.error().code, core::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace inkwell::templating
