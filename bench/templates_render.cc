// bench-templates: renders the welcome e-mail (subject, txt, html) and the web
// post page N times with mstch, the way TemplateSet did before (the view
// converted to mstch nodes and the text re-parsed on every render, with only
// the partials the template includes), and with TemplateSet (parsed once at
// load), in the same run. Prints one JSON line with both rates and their ratio.
//   bench-templates [iterations, default 20000] [template folder, default the
//   repo's templates/]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <mstch/mstch.hpp>
#include <nlohmann/json.hpp>

#include "templating/template_set.h"
#include "../tests/support/mstch_view.h"

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string ReadTemplate(const std::filesystem::path& folder, const std::string& name) {
  std::ifstream file(folder / (name + ".mustache"), std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "bench-templates: cannot read %s\n",
                 (folder / (name + ".mustache")).c_str());
    std::exit(1);
  }
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

Json PostView() {
  Json comments = Json::array();
  for (int i = 0; i < 5; ++i) {
    comments.push_back({{"author_name", "Reader " + std::to_string(i)},
                        {"body", "Thanks for this <3 — it's what I \"needed\" & more."},
                        {"created_at", "3 May 2024"}});
  }
  return {{"title", "Compiled templates"},
          {"post",
           {{"id", 42},
            {"title", "Compiled templates"},
            {"html", "<p>Parse once, render many times.</p>\n<pre>a &lt; b</pre>\n"},
            {"author_name", "Ada"},
            {"created_at", "1 May 2024"},
            {"updated_at", "2 May 2024"},
            {"is_draft", false}}},
          {"comments", comments},
          {"has_comments", true},
          {"can_edit", true},
          {"can_comment", true},
          {"login_to_comment", false},
          {"comment_form", {{"body", ""}}},
          {"comment_error", ""},
          {"user", {{"id", 7}, {"name", "Ada"}}},
          {"csrf_token", "0123456789abcdef0123456789abcdef"}};
}

template <typename Fn>
double RendersPerSecond(long iterations, std::size_t& bytes, Fn&& render) {
  const auto start = Clock::now();
  for (long i = 0; i < iterations; ++i) bytes += render();
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  return static_cast<double>(iterations) / elapsed.count();
}

void Require(bool is_true, const char* what) {
  if (is_true) return;
  std::fprintf(stderr, "bench-templates: %s\n", what);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 20000;
  const std::filesystem::path folder = argc > 2 ? argv[2] : INKWELL_BENCH_TEMPLATE_DIR;
  auto templates = inkwell::templating::TemplateSet::Load(folder);
  Require(templates.has_value(), "cannot load templates");

  const std::vector<std::string> email_parts = {"email/welcome.subject", "email/welcome.txt",
                                                "email/welcome.html"};
  std::map<std::string, std::string> email_texts;
  for (const auto& name : email_parts) email_texts[name] = ReadTemplate(folder, name);
  const inkwell::templating::TemplateValues email_values = {
      {"to", "ada@example.org"},
      {"email", "ada@example.org"},
      {"name", "Ada Lovelace"},
      {"confirm_url",
       "https://inkwell.example/"
       "confirm?token=0123456789abcdef0123456789abcdef"}};
  const std::string page_text = ReadTemplate(folder, "web/post.html");
  const std::map<std::string, std::string> page_partials = {
      {"web/head", ReadTemplate(folder, "web/head")},
      {"web/foot", ReadTemplate(folder, "web/foot")}};
  const Json page_view = PostView();

  const auto mstch_email = [&] {
    std::size_t size = 0;
    for (const auto& name : email_parts) {
      mstch::map context;
      for (const auto& [key, value] : email_values) context.emplace(key, value);
      size += mstch::render(email_texts.at(name), context).size();
    }
    return size;
  };
  const auto compiled_email = [&] {
    std::size_t size = 0;
    for (const auto& name : email_parts) size += templates->Render(name, email_values)->size();
    return size;
  };
  const auto mstch_page = [&] {
    return mstch::render(page_text, inkwell::testing::MstchView(page_view), page_partials).size();
  };
  const auto compiled_page = [&] {
    return templates->RenderView("web/post.html", page_view)->size();
  };

  for (const auto& name : email_parts) {
    mstch::map context;
    for (const auto& [key, value] : email_values) context.emplace(key, value);
    Require(mstch::render(email_texts.at(name), context) == *templates->Render(name, email_values),
            "e-mail output differs from mstch");
  }
  Require(mstch::render(page_text, inkwell::testing::MstchView(page_view), page_partials) ==
              *templates->RenderView("web/post.html", page_view),
          "page output differs from mstch");

  std::size_t bytes = 0;  // used, so the renders cannot be optimised away
  const double email_mstch = RendersPerSecond(iterations, bytes, mstch_email);
  const double email_compiled = RendersPerSecond(iterations, bytes, compiled_email);
  const double page_mstch = RendersPerSecond(iterations, bytes, mstch_page);
  const double page_compiled = RendersPerSecond(iterations, bytes, compiled_page);
  std::printf(
      "{\"bench\":\"templates\",\"iterations\":%ld,"
      "\"email_welcome\":{\"mstch_per_s\":%.0f,\"compiled_per_s\":%.0f,"
      "\"ratio\":%.2f},"
      "\"web_post\":{\"mstch_per_s\":%.0f,\"compiled_per_s\":%.0f,"
      "\"ratio\":%.2f},\"bytes\":%zu}\n",
      iterations, email_mstch, email_compiled, email_compiled / email_mstch, page_mstch,
      page_compiled, page_compiled / page_mstch, bytes);
  return 0;
}
