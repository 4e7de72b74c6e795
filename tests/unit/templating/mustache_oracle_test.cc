// TemplateSet renders from templates parsed once; mstch 1.0.2 (what it
// replaced) is the oracle here: every case renders through both and must match
// byte for byte.
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include "templating/template_set.h"
#include "../../support/mstch_view.h"

namespace inkwell::templating {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Texts = std::map<std::string, std::string>;

// Templates written to a fresh folder and loaded as a TemplateSet; mstch gets
// them all as partials.
class OracleTemplates {
 public:
  explicit OracleTemplates(Texts texts) : texts_(std::move(texts)) {
    std::string pattern = (fs::temp_directory_path() / "inkwell-oracle-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    for (const auto& [name, text] : texts_) {
      fs::create_directories((dir_ / (name + ".mustache")).parent_path());
      std::ofstream(dir_ / (name + ".mustache"), std::ios::binary) << text;
    }
    auto loaded = TemplateSet::Load(dir_);
    EXPECT_TRUE(loaded) << loaded.error().message;
    if (loaded) set_ = std::move(*loaded);
  }
  OracleTemplates(const OracleTemplates&) = delete;
  OracleTemplates& operator=(const OracleTemplates&) = delete;
  ~OracleTemplates() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void ExpectSame(const std::string& name, const Json& view) const {
    const std::string expected = mstch::render(texts_.at(name), inkwell::testing::MstchView(view), texts_);
    auto rendered = set_.RenderView(name, view);
    ASSERT_TRUE(rendered) << rendered.error().message;
    EXPECT_EQ(*rendered, expected) << "template " << name << " view " << view.dump();
  }
  void ExpectSame(const std::string& name, const TemplateValues& values) const {
    mstch::map context;
    for (const auto& [key, value] : values) context.emplace(key, value);
    const std::string expected = mstch::render(texts_.at(name), context, texts_);
    auto rendered = set_.Render(name, values);
    ASSERT_TRUE(rendered) << rendered.error().message;
    EXPECT_EQ(*rendered, expected) << "template " << name;
  }

 private:
  Texts texts_;
  fs::path dir_;
  TemplateSet set_;
};

void ExpectSameAsMstch(const std::string& text, const Json& view, Texts partials = {}) {
  partials["t"] = text;
  OracleTemplates(partials).ExpectSame("t", view);
}

Texts RepoTexts(const std::string& folder) {
  Texts texts;
  const fs::path root = INKWELL_TEST_TEMPLATE_DIR;
  for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
    if (entry.path().extension() != ".mustache") continue;
    std::ifstream file(entry.path(), std::ios::binary);
    texts[fs::relative(entry.path(), root).replace_extension("").string()] =
        std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  return texts;
}

// Sets view[a][b]... for a dotted name, without replacing what is there.
void SetPath(Json& view, const std::string& name, const Json& value) {
  Json* at = &view;
  std::size_t from = 0;
  for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', from)) {
    at = &(*at)[name.substr(from, dot - from)];
    if (!at->is_object()) *at = Json::object();
    from = dot + 1;
  }
  if (!at->contains(name.substr(from))) (*at)[name.substr(from)] = value;
}

// Views built from the names a template uses: every value a string needing
// escapes, every section true, a list of two such objects, an empty list, and
// nothing at all.
// The names in text's {{name}}, {{{name}}}, {{&name}} tags (variables) and {{#name}}, {{^name}}
// tags (sections). A scan, not std::regex: g++ 12 warns inside <regex> under -fsanitize with
// -O2, and warnings are errors.
void TagNames(const std::string& text, std::set<std::string>& variables,
              std::set<std::string>& sections) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  const auto is_name = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
  };
  for (std::size_t at = text.find("{{"); at != std::string::npos; at = text.find("{{", at + 2)) {
    std::size_t i = at + 2;
    char kind = 0;
    if (i < text.size() && (text[i] == '#' || text[i] == '^' || text[i] == '&' || text[i] == '{')) {
      kind = text[i++];
    }
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t first = i;
    while (i < text.size() && is_name(text[i])) ++i;
    if (i == first) continue;
    const std::string name = text.substr(first, i - first);
    while (i < text.size() && is_space(text[i])) ++i;
    if (text.compare(i, 2, "}}") != 0) continue;
    (kind == '#' || kind == '^' ? sections : variables).insert(name);
  }
}

std::vector<Json> GeneratedViews(const std::string& text) {
  std::set<std::string> variables;
  std::set<std::string> sections;
  TagNames(text, variables, sections);
  Json strings = Json::object();
  for (const auto& name : variables)
    SetPath(strings, name, "<b title=\"" + name + "\">Tom & 'Jerry'</b> / ü");
  Json switched = strings;
  Json listed = strings;
  Json emptied = strings;
  for (const auto& name : sections) {
    SetPath(switched, name, true);
    SetPath(listed, name, Json::array({strings, switched}));
    SetPath(emptied, name, Json::array());
  }
  return {Json::object(), strings, switched, listed, emptied};
}

TEST(MustacheOracleTest, EveryRepoTemplateMatchesMstchOnGeneratedViews) {
  for (const std::string folder : {"web", "email"}) {
    const Texts texts = RepoTexts(folder);
    ASSERT_FALSE(texts.empty());
    const OracleTemplates templates(texts);
    for (const auto& [name, text] : texts) {
      for (const Json& view :
           GeneratedViews(text + texts.at(folder == "web" ? "web/head" : name))) {
        templates.ExpectSame(name, view);
      }
    }
  }
}

Json Visitor(Json view, bool is_logged_in) {
  if (is_logged_in) view["user"] = {{"id", 7}, {"name", "Ada <Lovelace>"}};
  view["csrf_token"] = "k3y/with+chars==";
  if (is_logged_in) view["notice"] = "Saved \"it\".";
  return view;
}

TEST(MustacheOracleTest, WebPagesMatchMstchOnTheViewsWebAppBuilds) {
  const OracleTemplates templates(RepoTexts("web"));
  const Json pagination = {
      {"page", 2}, {"has_prev", true}, {"prev_page", 1}, {"has_next", false}, {"next_page", 3}};
  const Json posts = Json::array({{{"id", 1},
                                   {"title", "Hello & welcome"},
                                   {"author_name", "Ada"},
                                   {"created_at", "3 May 2024"},
                                   {"excerpt", "It's <here>."},
                                   {"is_draft", false}},
                                  {{"id", 2},
                                   {"title", "Draft"},
                                   {"author_name", "Bob"},
                                   {"created_at", "4 May 2024"},
                                   {"excerpt", ""},
                                   {"is_draft", true}}});
  const Json comments =
      Json::array({{{"author_name", "Eve"}, {"body", "x < y\n'ok'"}, {"created_at", "today"}}});
  for (const bool is_logged_in : {false, true}) {
    templates.ExpectSame(
        "web/home.html",
        Visitor(
            {{"title", "Home"}, {"posts", posts}, {"has_posts", true}, {"pagination", pagination}},
            is_logged_in));
    templates.ExpectSame("web/home.html", Visitor({{"title", "Home"},
                                                   {"posts", Json::array()},
                                                   {"has_posts", false},
                                                   {"pagination", pagination}},
                                                  is_logged_in));
    templates.ExpectSame("web/pages.html",
                         Visitor({{"title", "Pages"},
                                  {"pages", Json::array({{{"slug", "a-b"},
                                                          {"title", "A/B"},
                                                          {"author_name", "Ada"},
                                                          {"updated_at", "now"}}})},
                                  {"has_pages", true},
                                  {"pagination", pagination}},
                                 is_logged_in));
    templates.ExpectSame("web/page.html", Visitor({{"title", "About"},
                                                   {"page",
                                                    {{"slug", "about"},
                                                     {"title", "About"},
                                                     {"html", "<p>Hi &amp; bye</p>\n"},
                                                     {"author_name", "Ada"},
                                                     {"created_at", "1 Jan"},
                                                     {"updated_at", "2 Jan"}}},
                                                   {"can_edit", is_logged_in}},
                                                  is_logged_in));
    for (const bool has_comments : {false, true}) {
      templates.ExpectSame("web/post.html",
                           Visitor({{"title", "Post"},
                                    {"post",
                                     {{"id", 42},
                                      {"title", "Post"},
                                      {"html", "<h2>x</h2>\n<pre>a\n  b</pre>\n"},
                                      {"author_name", "Ada"},
                                      {"created_at", "1 Jan"},
                                      {"updated_at", "2 Jan"},
                                      {"is_draft", !has_comments}}},
                                    {"comments", has_comments ? comments : Json::array()},
                                    {"has_comments", has_comments},
                                    {"can_edit", is_logged_in},
                                    {"can_comment", is_logged_in},
                                    {"login_to_comment", !is_logged_in},
                                    {"comment_form", {{"body", "draft </textarea>"}}},
                                    {"comment_error", has_comments ? "Too long" : ""}},
                                   is_logged_in));
    }
    templates.ExpectSame("web/error.html",
                         Visitor({{"title", "Not found"}, {"message", "Gone."}}, is_logged_in));
  }
}

TEST(MustacheOracleTest, EmailsMatchMstchOnTheValuesTheMailerBuilds) {
  const OracleTemplates templates(RepoTexts("email"));
  const std::vector<TemplateValues> values = {
      {{"to", "ada@example.org"},
       {"email", "ada@example.org"},
       {"name", "Ada"},
       {"confirm_url", "https://example.org/confirm?t=a&b=c"}},
      {{"to", "bob@example.org"},
       {"email", "bob@example.org"},
       {"name", ""},
       {"message", "Hi <there> & 'you'"}},
      {{"to", "x@example.org"}},
  };
  for (const std::string name : {"welcome", "confirm"}) {
    for (const std::string part : {".subject", ".txt", ".html"}) {
      for (const auto& value : values) templates.ExpectSame("email/" + name + part, value);
    }
  }
}

TEST(MustacheOracleTest, EscapesExactlyWhatMstchEscapes) {
  std::string every_byte;
  for (int byte = 1; byte < 256; ++byte) every_byte += static_cast<char>(byte);

  ExpectSameAsMstch("{{x}}|{{{x}}}|{{& x}}|{{ x }}", {{"x", every_byte}});
  ExpectSameAsMstch("{{x}}", {{"x", "&amp; <a href='/x'>\"q\"</a> `=\\"}});
}

TEST(MustacheOracleTest, StandaloneLinesMatchMstch) {
  const Json view = {{"t", true}, {"f", false}, {"x", "X"}};
  for (const std::string text :
       {"a\n  {{#t}}  \nb\n  {{/t}}\nc\n", "a\n{{#t}}{{/t}}\nd", "a\n{{! c }}\nb",
        "  {{! c }}  \r\nx", "x {{! c }}\ny", "{{#t}}\nx{{/t}}", "{{#t}}x\n{{/t}}\n",
        "a\r\n{{#f}}\r\nb\r\n{{/f}}\r\nc", "\t{{^f}}\t\n{{x}}\n\t{{/f}}\t", "{{x}}\n{{#t}}\n{{/t}}",
        "{{#t}}{{x}}{{/t}}\n  {{#t}} {{/t}} \n", "a\n{{! multi\nline }}\nb",
        "  {{#t}}\n  {{x}}\n  {{/t}}", "{{#t}}{{/t}}", "\n\n{{^f}}\n\n{{/f}}\n\n"}) {
    ExpectSameAsMstch(text + std::string("}"),
                      view);  // "}" after a final tag is plain text
    ExpectSameAsMstch(text, view);
  }
}

TEST(MustacheOracleTest, PartialIndentationMatchesMstch) {
  const Texts partials = {{"p", "l1\n {{>q}}\nl2\n"},
                          {"q", "q1\nq2\n"},
                          {"s", "{{#t}}\nin\n{{/t}}\n"},
                          {"u", "a\nb"},
                          {"e", ""}};
  const Json view = {{"t", Json::array({1, 2})}};
  for (const std::string text :
       {"x\n  {{>p}}\ny", "x\n  {{>s}}\ny", "  {{>u}}", "  {{>p}} {{>u}}\n",
        "{{#t}}\n  {{>u}}\n{{/t}}", "a {{>u}} b\n  {{>missing}}\n", "\t{{> e }}\n.",
        "  {{>s}}  \n  {{>s}}\n"}) {
    ExpectSameAsMstch(text, view, partials);
  }
}

TEST(MustacheOracleTest, NamesResolveUpTheContextStackLikeMstch) {
  const Json view = {
      {"a", {{"b", {{"c", "C"}}}, {"", "E"}, {"name", "inner"}}},
      {"name", "outer"},
      {"list", Json::array({{{"name", "one"}}, {{"other", 1}}, "str", 2.5, nullptr, true})},
      {"nested", Json::array({Json::array({1, 2}), Json::array(), Json::array({"x"})})},
      {"", "root-empty"}};
  for (const std::string text :
       {"{{a.b.c}}{{a.b.x}}{{a.x.c}}{{x.b.c}}",
        "{{#a}}{{name}}{{#b}}{{name}}{{c}}{{/b}}{{/a}}{{name}}",
        "{{a..b}}|{{.a}}|{{a.}}|{{..}}|{{...}}|{{..name}}",
        "{{#list}}[{{name}}|{{.}}|{{other}}]{{/list}}",
        "{{#nested}}<{{#.}}{{.}}{{/.}}{{^.}}empty{{/.}}>{{/nested}}", "{{.}}{{#a}}{{.}}{{/a}}",
        "{{#name}}{{.}}{{^nope}}<{{.}}>{{/nope}}{{/name}}", "{{#a.b}}{{c}}{{name}}{{/a.b}}",
        "{{#list}}{{#.}}({{.}}){{/.}}{{/list}}", "{{\tname}}|{{name\t}}"}) {
    ExpectSameAsMstch(text, view);
  }
}

TEST(MustacheOracleTest, SectionValuesAreTruthyOrEmptyAsInMstch) {
  const Json view = {{"empty_list", Json::array()},
                     {"empty_string", ""},
                     {"no", false},
                     {"yes", true},
                     {"zero", 0},
                     {"null", nullptr},
                     {"empty_object", Json::object()},
                     {"text", "t"},
                     {"float", 0.0},
                     {"list", Json::array({false, "", Json::array()})}};
  for (const std::string name : {"empty_list", "empty_string", "no", "yes", "zero", "null",
                                 "empty_object", "text", "float", "list", "missing"}) {
    ExpectSameAsMstch("{{#" + name + "}}[{{.}}]{{/" + name + "}}{{^" + name + "}}(none){{/" + name +
                          "}}{{" + name + "}}",
                      view);
  }
  ExpectSameAsMstch("{{#empty_object}}{{text}}{{/empty_object}}", view);
  const OracleTemplates values(
      Texts{{"t", "{{#a}}[{{.}}]{{/a}}{{^b}}<{{.}}>{{/b}}{{c}}{{#c}}c{{/c}}"}});
  values.ExpectSame("t", TemplateValues{{"a", "A&"}, {"b", ""}});
  values.ExpectSame("t", TemplateValues{});
}

TEST(MustacheOracleTest, RecursivePartialEndsWithTheData) {
  ExpectSameAsMstch(
      "{{>tree}}",
      {{"name", "root"},
       {"kids",
        Json::array(
            {{{"name", "a"}, {"kids", Json::array({{{"name", "b"}, {"kids", Json::array()}}})}}})}},
      {{"tree", "<{{name}}{{#kids}}\n  {{>tree}}\n{{/kids}}>"}});
}

TEST(MustacheOracleTest, EndlessPartialRecursionIsAnError) {
  std::string pattern = (fs::temp_directory_path() / "inkwell-oracle-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  std::ofstream(dir / "t.mustache") << "x{{>t}}";
  auto loaded = TemplateSet::Load(dir);
  ASSERT_TRUE(loaded) << loaded.error().message;

  auto rendered = loaded->Render("t", {});

  fs::remove_all(dir);
  ASSERT_FALSE(rendered);
  EXPECT_EQ(rendered.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(rendered.error().message.find("deeper than 64"), std::string::npos)
      << rendered.error().message;
}

TEST(MustacheOracleTest, OneSetRendersTheSameFromEightThreads) {
  auto templates = TemplateSet::Load(INKWELL_TEST_TEMPLATE_DIR);
  ASSERT_TRUE(templates);
  const Json view = {{"title", "T"}, {"message", "<m>"}, {"user", {{"name", "Ada"}}}};
  const std::string expected = *templates->RenderView("web/error.html", view);
  std::atomic<int> differing{0};

  std::vector<std::thread> threads;
  for (int thread = 0; thread < 8; ++thread) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (*templates->RenderView("web/error.html", view) != expected) ++differing;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(differing, 0);
}

core::Error LoadError(const std::string& text) {
  std::string pattern = (fs::temp_directory_path() / "inkwell-oracle-XXXXXX").string();
  const fs::path dir = ::mkdtemp(pattern.data());
  std::ofstream(dir / "bad.mustache") << text;
  auto loaded = TemplateSet::Load(dir);
  fs::remove_all(dir);
  EXPECT_FALSE(loaded) << text;
  return loaded ? core::Error{core::ErrorCode::kInternal, "loaded"} : loaded.error();
}

TEST(MustacheOracleTest, MalformedTemplatesFailAtLoadNamingTemplateAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\n{{#s}}\nb", "template bad line 2: section 's' is never closed"},
      {"{{#s}}\n{{/t}}",
       "template bad line 2: end tag {{/t}} closes section "
       "'s' opened on line 1"},
      {"x\n\n{{/s}}", "template bad line 3: end tag {{/s}} without a section"},
      {"ok\n{{name", "template bad line 2: unterminated tag: '{{' without '}}'"},
      {"{{a {{b}}", "template bad line 1: unterminated tag: '{{' again before '}}'"},
      {"x\n{{=<% %>=}}",
       "template bad line 2: set-delimiter tags ({{=<% "
       "%>=}}) are not supported"},
      {"{{ }}", "template bad line 1: empty tag"},
      {"{{# }}{{/ }}", "template bad line 1: tag without a name"},
      {"{{{x}}", "template bad line 1: stray brace in tag name '{x'"},
  };
  for (const auto& [text, message] : cases) {
    const core::Error error = LoadError(text);

    EXPECT_EQ(error.code, core::ErrorCode::kInvalidArgument) << text;
    EXPECT_EQ(error.message, message) << text;
  }
}

}  // namespace
}  // namespace inkwell::templating
