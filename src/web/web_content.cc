// The site's and the API's routes for pages, posts and comments, and the account routes that
// need no password hashing (logout, resend link, confirm).
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/traceparent.h"
#include "http/form.h"
#include "web/auth.h"
#include "web/content.h"
#include "contracts/email_address.h"
#include "web/markdown.h"
#include "web/request_util.h"
#include "web/web_app.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

constexpr std::int64_t kSitePageSize = 10;
constexpr std::int64_t kCommentsShown = 500;

Json Pagination(const Paging& paging, std::int64_t total) {
  const bool has_next = paging.page * paging.per_page < total;
  return {{"page", paging.page},
          {"has_prev", paging.page > 1},
          {"prev_page", paging.page - 1},
          {"has_next", has_next},
          {"next_page", paging.page + 1}};
}

}  // namespace

// ---------------------------------------------------------------- cache

void WebApp::ServeCached(const http::HttpRequest& request, const std::string& key,
                         http::Responder& respond,
                         std::function<http::HttpResponse(const Visitor&)> render) {
  // Anonymous visitors all see the same page, so theirs is cached whole; a visitor with a
  // session sees their own name, drafts and buttons, rendered fresh.
  const auto cookies = ParseCookies(request.Header("cookie"));
  const bool is_cacheable = !cookies.contains(std::string(kSessionCookie)) &&
                            request.query.find("notice=") == std::string::npos;
  if (is_cacheable) {
    if (auto hit = deps_.cache.Get(key)) {
      http::HttpResponse response{200, "text/html; charset=utf-8", {}, *hit};
      response.headers.emplace_back("X-Inkwell-Cache", "hit");
      return respond(std::move(response));
    }
  }
  Offload(deps_.db_pool, request, respond, [this, request, key, is_cacheable, render = std::move(render)]() {
    const std::uint64_t stamp = deps_.cache.Stamp();  // before reading what is rendered
    Visitor visitor = Identify(request, false);
    if (visitor.user || !is_cacheable) return render(visitor);
    http::HttpResponse response = render(Visitor{});  // no per-visitor token in a shared page
    if (response.status == 200) {
      deps_.cache.Put(key, response.body, stamp);
      response.headers.emplace_back("X-Inkwell-Cache", "miss");
    }
    return response;
  });
}

// ---------------------------------------------------------------- views

http::HttpResponse WebApp::HomePage(const Visitor& visitor, std::int64_t page_number) {
  const Paging paging{page_number, kSitePageSize};
  auto listing = deps_.store.ListPosts(visitor.user ? visitor.user->id : 0, paging.offset(), paging.per_page);
  if (!listing) ThrowStoreError(listing.error(), "list posts");
  Json posts = Json::array();
  for (const db::Post& post : listing->items) {
    posts.push_back({{"id", post.id},
                     {"title", post.title},
                     {"author_name", post.author_name},
                     {"created_at", HumanDate(post.created_at_ms)},
                     {"excerpt", PlainExcerpt(post.body, 240)},
                     {"is_draft", !post.is_published}});
  }
  return Html(200, "web/home.html",
              {{"title", "Home"}, {"posts", posts}, {"has_posts", !posts.empty()},
               {"pagination", Pagination(paging, listing->total)}},
              visitor);
}

http::HttpResponse WebApp::PagesPage(const Visitor& visitor, std::int64_t page_number) {
  const Paging paging{page_number, kSitePageSize};
  auto listing = deps_.store.ListPages(paging.offset(), paging.per_page);
  if (!listing) ThrowStoreError(listing.error(), "list pages");
  Json pages = Json::array();
  for (const db::Page& page : listing->items) {
    pages.push_back({{"slug", page.slug},
                     {"title", page.title},
                     {"author_name", page.author_name},
                     {"updated_at", HumanDate(page.updated_at_ms)}});
  }
  return Html(200, "web/pages.html",
              {{"title", "Pages"}, {"pages", pages}, {"has_pages", !pages.empty()},
               {"pagination", Pagination(paging, listing->total)}},
              visitor);
}

http::HttpResponse WebApp::PageView(const Visitor& visitor, const std::string& slug) {
  auto page = deps_.store.FindPage(slug);
  if (!page) ThrowStoreError(page.error(), "find page");
  if (!*page) return ErrorPage(404, "Not found", "There is no page at this address.", visitor);
  const db::Page& found = **page;
  return Html(200, "web/page.html",
              {{"title", found.title},
               {"page", {{"slug", found.slug}, {"title", found.title}, {"html", RenderMarkdown(found.body)},
                         {"author_name", found.author_name}, {"created_at", HumanDate(found.created_at_ms)},
                         {"updated_at", HumanDate(found.updated_at_ms)}}},
               {"can_edit", visitor.user && visitor.user->id == found.author_id}},
              visitor);
}

http::HttpResponse WebApp::PostView(const Visitor& visitor, std::int64_t id,
                                    const std::string& comment_error,
                                    const std::string& comment_body, int status) {
  auto post = deps_.store.FindPost(id);
  if (!post) ThrowStoreError(post.error(), "find post");
  const bool is_author = *post && visitor.user && visitor.user->id == (*post)->author_id;
  if (!*post || (!(*post)->is_published && !is_author)) {
    return ErrorPage(404, "Not found", "There is no post at this address.", visitor);
  }
  const db::Post& found = **post;
  auto comments = deps_.store.ListComments(id, 0, kCommentsShown);
  if (!comments) ThrowStoreError(comments.error(), "list comments");
  Json list = Json::array();
  for (const db::Comment& comment : comments->items) {
    list.push_back({{"author_name", comment.author_name},
                    {"body", comment.body},
                    {"created_at", HumanDate(comment.created_at_ms)}});
  }
  return Html(status, "web/post.html",
              {{"title", found.title},
               {"post", {{"id", found.id}, {"title", found.title}, {"html", RenderMarkdown(found.body)},
                         {"author_name", found.author_name}, {"created_at", HumanDate(found.created_at_ms)},
                         {"updated_at", HumanDate(found.updated_at_ms)}, {"is_draft", !found.is_published}}},
               {"comments", list},
               {"has_comments", !list.empty()},
               {"can_edit", is_author},
               {"can_comment", visitor.user.has_value() && found.is_published},
               {"login_to_comment", !visitor.user.has_value()},
               {"comment_form", {{"body", comment_body}}},
               {"comment_error", comment_error}},
              visitor);
}

// ---------------------------------------------------------------- the HTML site

void WebApp::RouteSite(const http::HttpRequest& request, const std::string& traceparent,
                       http::Responder& respond) {
  const std::vector<std::string> parts = PathSegments(request.path);
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  const bool is_post = request.method == "POST";
  auto not_allowed = [&](const char* allow) {
    Offload(deps_.db_pool, request, respond, [this, request, allow]() {
      http::HttpResponse response = ErrorPage(405, "Method not allowed",
                                              "This address does not accept that request.",
                                              Identify(request, false));
      response.headers.emplace_back("Allow", allow);
      return response;
    });
  };
  // A page for a form POST: the visitor, their parsed and CSRF-checked form, or the error page.
  struct FormPost {
    Visitor visitor;
    std::map<std::string, std::string> fields;
  };
  const auto read_form = [this](const http::HttpRequest& req) -> tl::expected<FormPost, http::HttpResponse> {
    FormPost post{Identify(req, false), {}};
    if (req.is_body_too_large) {
      return tl::unexpected(ErrorPage(413, "Too large", "The form was too large (at most 64 KiB).", post.visitor));
    }
    if (!HasMediaType(req, "application/x-www-form-urlencoded")) {
      return tl::unexpected(ErrorPage(415, "Unsupported form",
                                      "The form must be sent as application/x-www-form-urlencoded.",
                                      post.visitor));
    }
    auto fields = http::ParseForm(req.body);
    if (!fields) return tl::unexpected(ErrorPage(400, "Bad form", "The form data is malformed.", post.visitor));
    post.fields = std::move(*fields);
    if (auto forged = CheckCsrf(req, post.fields, post.visitor)) return tl::unexpected(*forged);
    return post;
  };
  const auto login_required = [this](const Visitor& visitor) {
    http::HttpResponse response = ErrorPage(
        401, "Please log in", "You need to be logged in to do that. Log in, then try again.", visitor);
    return response;
  };
  const auto page_number = [&]() -> std::optional<std::int64_t> {
    auto paging = ParsePaging(request.query, kSitePageSize);
    if (!paging || paging->per_page != kSitePageSize) return std::nullopt;
    return paging->page;
  };
  const auto bad_page_number = [&] {
    Offload(deps_.db_pool, request, respond, [this, request]() {
      return ErrorPage(400, "Bad address", "The page number must be a whole number from 1 to 100000.",
                       Identify(request, false));
    });
  };
  // "/" — the front page.
  if (parts.empty()) {
    if (!is_get) return not_allowed("GET");
    auto number = page_number();
    if (!number) return bad_page_number();
    return ServeCached(request, "home:" + std::to_string(*number), respond,
                       [this, number](const Visitor& visitor) { return HomePage(visitor, *number); });
  }
  const std::string& first = parts[0];
  const std::size_t count = parts.size();

  if (count == 1 && first == "register") {
    if (is_post) return RegisterFromForm(request, traceparent, respond);
    if (!is_get) return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond, [this, request]() {
      return RegisterForm(200, {}, "", Identify(request, false));
    });
  }
  if (count == 1 && first == "registered") {
    if (!is_get) return not_allowed("GET");
    return Offload(deps_.db_pool, request, respond, [this, request]() {
      auto query = http::ParseForm(request.query);
      return Html(200, "web/registered.html",
                  {{"title", "Check your mail"}, {"email", query ? FormField(*query, "email") : ""}},
                  Identify(request, false));
    });
  }
  if (count == 1 && first == "login") {
    if (is_post) return LoginFromForm(request, respond);
    if (!is_get) return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond, [this, request]() {
      const Visitor visitor = Identify(request, false);
      if (visitor.user) return Redirect("/");
      return Html(200, "web/login.html", {{"title", "Log in"}, {"form", {{"email", ""}}}}, visitor);
    });
  }
  if (count == 1 && first == "logout") {
    if (!is_post) return not_allowed("POST");
    return Offload(deps_.db_pool, request, respond, [this, request, read_form]() {
      auto form = read_form(request);
      if (!form) return form.error();
      if (!form->visitor.session_token.empty()) {
        if (auto deleted = deps_.store.DeleteSession(HashToken(form->visitor.session_token)); !deleted) {
          return ErrorPage(503, "Please try again", "We could not log you out just now.", form->visitor);
        }
      }
      http::HttpResponse redirect = Redirect("/?notice=logged_out");
      redirect.headers.emplace_back("Set-Cookie",
                                    CookieHeader(kSessionCookie, "", std::chrono::seconds(0), is_secure_cookies_));
      return redirect;
    });
  }
  if (count == 1 && first == "confirm") {
    if (!is_get) return not_allowed("GET");
    if (request.method == "HEAD") {
      // Link checkers and mail scanners probe with HEAD: that must not use up the link.
      return Offload(deps_.db_pool, request, respond, [this, request]() {
        return Html(200, "web/confirm.html",
                    {{"title", "Confirm your address"}, {"ok", false},
                     {"message", "Open this link in your browser to confirm your address."}},
                    Identify(request, false));
      });
    }
    return Offload(deps_.db_pool, request, respond,
                   [this, request, traceparent]() { return Confirm(request, traceparent); });
  }
  if (count == 2 && first == "confirm" && parts[1] == "resend") {
    if (is_get) {
      return Offload(deps_.db_pool, request, respond, [this, request]() {
        auto query = http::ParseForm(request.query);
        return Html(200, "web/resend.html",
                    {{"title", "New confirmation link"}, {"form", {{"email", query ? FormField(*query, "email") : ""}}}},
                    Identify(request, false));
      });
    }
    if (!is_post) return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond, [this, request, read_form, traceparent]() {
      auto form = read_form(request);
      if (!form) return form.error();
      const std::string email = FormField(form->fields, "email");
      const auto page = [&](int status, const std::string& error) {
        return Html(status, "web/resend.html",
                    {{"title", "New confirmation link"}, {"form", {{"email", email}}}, {"error", error}},
                    form->visitor);
      };
      if (auto limited = Throttle("resend", request, false)) return *limited;
      if (auto address = contracts::EmailAddress::Parse(email); !address) {
        return page(400, address.error().message);
      }
      if (auto sent = ResendConfirmation(email, traceparent); !sent) {
        return page(503, "We could not send a new link just now; please try again in a moment.");
      }
      return Redirect("/login?notice=resent");
    });
  }

  // Pages.
  if (first == "pages" && count == 1) {
    if (is_post) {
      return Offload(deps_.db_pool, request, respond, [this, request, read_form, login_required, traceparent]() {
        auto form = read_form(request);
        if (!form) return form.error();
        if (!form->visitor.user) return login_required(form->visitor);
        const db::PageInput input{.slug = FormField(form->fields, "slug"),
                                  .title = FormField(form->fields, "title"),
                                  .body = FormField(form->fields, "body")};
        const auto form_page = [&](int status, const std::string& error) {
          return Html(status, "web/page_form.html",
                      {{"title", "New page"}, {"is_new", true}, {"action", "/pages"},
                       {"form", {{"title", input.title}, {"slug", input.slug}, {"body", input.body}}},
                       {"error", error}},
                      form->visitor);
        };
        if (auto valid = ValidatePage(input); !valid) return form_page(400, valid.error().message);
        auto page = deps_.store.CreatePage(form->visitor.user->id, input, [&](const db::Page& created) {
          return std::vector<db::OutboxMessage>{
              PageUpdatedEvent(created, "", traceparent),
              CacheInvalidation({PageKey(created.slug), kPagesKeys}, traceparent)};
        });
        if (!page) {
          return form_page(StatusFor(page.error().code),
                           page.error().code == ErrorCode::kConflict
                               ? "A page with this slug exists already; choose another."
                               : "We could not save the page just now; please try again.");
        }
        deps_.cache.Invalidate(PageKey(page->slug));
        deps_.cache.Invalidate(kPagesKeys);
        Written();
        return Redirect("/page/" + page->slug);
      });
    }
    if (!is_get) return not_allowed("GET, POST");
    auto number = page_number();
    if (!number) return bad_page_number();
    return ServeCached(request, "pages:" + std::to_string(*number), respond,
                       [this, number](const Visitor& visitor) { return PagesPage(visitor, *number); });
  }
  if (first == "pages" && count == 2 && parts[1] == "new") {
    if (!is_get) return not_allowed("GET");
    return Offload(deps_.db_pool, request, respond, [this, request, login_required]() {
      const Visitor visitor = Identify(request, false);
      if (!visitor.user) return login_required(visitor);
      return Html(200, "web/page_form.html",
                  {{"title", "New page"}, {"is_new", true}, {"action", "/pages"},
                   {"form", {{"title", ""}, {"slug", ""}, {"body", ""}}}},
                  visitor);
    });
  }
  if (first == "page" && count >= 2 && count <= 3 && IsValidSlug(parts[1])) {
    const std::string slug = parts[1];
    if (count == 2) {
      if (!is_get) return not_allowed("GET");
      return ServeCached(request, PageKey(slug), respond,
                         [this, slug](const Visitor& visitor) { return PageView(visitor, slug); });
    }
    const std::string& action = parts[2];
    if (action != "edit" && action != "delete") {
      return Offload(deps_.db_pool, request, respond, [this, request]() {
        return ErrorPage(404, "Not found", "There is no page at this address.", Identify(request, false));
      });
    }
    if (action == "delete" && !is_post) return not_allowed("POST");
    if (action == "edit" && !is_get && !is_post) return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond,
                   [this, request, slug, action, is_post, read_form, login_required, traceparent]() {
      Visitor visitor;
      std::map<std::string, std::string> fields;
      if (is_post) {
        auto form = read_form(request);
        if (!form) return form.error();
        visitor = std::move(form->visitor);
        fields = std::move(form->fields);
      } else {
        visitor = Identify(request, false);
      }
      if (!visitor.user) return login_required(visitor);
      auto found = deps_.store.FindPage(slug);
      if (!found) ThrowStoreError(found.error(), "find page");
      if (!*found) return ErrorPage(404, "Not found", "There is no page at this address.", visitor);
      const db::Page existing = **found;
      if (existing.author_id != visitor.user->id) {
        return ErrorPage(403, "Not yours", "Only the author of this page can change it.", visitor);
      }
      if (action == "delete") {
        auto deleted = deps_.store.DeletePage(
            existing.id, {PageDeletedEvent(existing, traceparent),
                          CacheInvalidation({PageKey(existing.slug), kPagesKeys}, traceparent)});
        if (!deleted && deleted.error().code != ErrorCode::kNotFound) {
          return ErrorPage(503, "Please try again", "We could not delete the page just now.", visitor);
        }
        deps_.cache.Invalidate(PageKey(existing.slug));
        deps_.cache.Invalidate(kPagesKeys);
        Written();
        return Redirect("/pages?notice=deleted");
      }
      const std::string action_url = "/page/" + existing.slug + "/edit";
      if (!is_post) {
        return Html(200, "web/page_form.html",
                    {{"title", "Edit " + existing.title}, {"is_new", false}, {"action", action_url},
                     {"form", {{"title", existing.title}, {"slug", existing.slug}, {"body", existing.body}}}},
                    visitor);
      }
      const db::PageInput input{.slug = FormField(fields, "slug"), .title = FormField(fields, "title"),
                               .body = FormField(fields, "body")};
      const auto form_page = [&](int status, const std::string& error) {
        return Html(status, "web/page_form.html",
                    {{"title", "Edit " + existing.title}, {"is_new", false}, {"action", action_url},
                     {"form", {{"title", input.title}, {"slug", input.slug}, {"body", input.body}}},
                     {"error", error}},
                    visitor);
      };
      if (auto valid = ValidatePage(input); !valid) return form_page(400, valid.error().message);
      auto updated = deps_.store.UpdatePage(existing.id, input, [&](const db::Page& page) {
        return std::vector<db::OutboxMessage>{
            PageUpdatedEvent(page, existing.slug, traceparent),
            CacheInvalidation({PageKey(existing.slug), PageKey(page.slug), kPagesKeys}, traceparent)};
      });
      if (!updated) {
        return form_page(StatusFor(updated.error().code),
                         updated.error().code == ErrorCode::kConflict
                             ? "A page with this slug exists already; choose another."
                             : "We could not save the page just now; please try again.");
      }
      deps_.cache.Invalidate(PageKey(existing.slug));
      deps_.cache.Invalidate(PageKey(updated->slug));
      deps_.cache.Invalidate(kPagesKeys);
      Written();
      return Redirect("/page/" + updated->slug);
    });
  }

  // Posts.
  if (first == "posts" && count == 1) {
    if (is_get) return respond(Redirect("/"));
    if (!is_post) return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond, [this, request, read_form, login_required, traceparent]() {
      auto form = read_form(request);
      if (!form) return form.error();
      if (!form->visitor.user) return login_required(form->visitor);
      const db::PostInput input{.title = FormField(form->fields, "title"),
                                .body = FormField(form->fields, "body"),
                                .is_published = FormField(form->fields, "published") == "on"};
      const auto form_page = [&](int status, const std::string& error) {
        return Html(status, "web/post_form.html",
                    {{"title", "New post"}, {"is_new", true}, {"action", "/posts"},
                     {"form", {{"title", input.title}, {"body", input.body}, {"published", input.is_published}}},
                     {"error", error}},
                    form->visitor);
      };
      if (auto valid = ValidatePost(input); !valid) return form_page(400, valid.error().message);
      auto post = deps_.store.CreatePost(form->visitor.user->id, input, [&](const db::Post& created) {
        std::vector<db::OutboxMessage> outbox;
        if (created.is_published) outbox.push_back(PostPublishedEvent(created, traceparent));
        outbox.push_back(CacheInvalidation({PostKey(created.id), kHomeKeys}, traceparent));
        return outbox;
      });
      if (!post) return form_page(StatusFor(post.error().code), "We could not save the post just now; please try again.");
      deps_.cache.Invalidate(PostKey(post->id));
      deps_.cache.Invalidate(kHomeKeys);
      Written();
      return Redirect("/posts/" + std::to_string(post->id));
    });
  }
  if (first == "posts" && count == 2 && parts[1] == "new") {
    if (!is_get) return not_allowed("GET");
    return Offload(deps_.db_pool, request, respond, [this, request, login_required]() {
      const Visitor visitor = Identify(request, false);
      if (!visitor.user) return login_required(visitor);
      return Html(200, "web/post_form.html",
                  {{"title", "New post"}, {"is_new", true}, {"action", "/posts"},
                   {"form", {{"title", ""}, {"body", ""}, {"published", true}}}},
                  visitor);
    });
  }
  if (first == "posts" && count >= 2 && count <= 3 && ParsePositiveId(parts[1])) {
    const std::int64_t id = *ParsePositiveId(parts[1]);
    if (count == 2) {
      if (!is_get) return not_allowed("GET");
      return ServeCached(request, PostKey(id), respond,
                         [this, id](const Visitor& visitor) { return PostView(visitor, id); });
    }
    const std::string& action = parts[2];
    if (action != "edit" && action != "delete" && action != "comments") {
      return Offload(deps_.db_pool, request, respond, [this, request]() {
        return ErrorPage(404, "Not found", "There is no page at this address.", Identify(request, false));
      });
    }
    if ((action == "delete" || action == "comments") && !is_post) return not_allowed("POST");
    if (action == "edit" && !is_get && !is_post) return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond,
                   [this, request, id, action, is_post, read_form, login_required, traceparent]() {
      Visitor visitor;
      std::map<std::string, std::string> fields;
      if (is_post) {
        auto form = read_form(request);
        if (!form) return form.error();
        visitor = std::move(form->visitor);
        fields = std::move(form->fields);
      } else {
        visitor = Identify(request, false);
      }
      if (!visitor.user) return login_required(visitor);
      auto found = deps_.store.FindPost(id);
      if (!found) ThrowStoreError(found.error(), "find post");
      const bool is_author = *found && (*found)->author_id == visitor.user->id;
      if (!*found || (!(*found)->is_published && !is_author)) {
        return ErrorPage(404, "Not found", "There is no post at this address.", visitor);
      }
      const db::Post existing = **found;
      if (action == "comments") {
        const std::string body = FormField(fields, "body");
        if (auto valid = ValidateComment(body); !valid) {
          return PostView(visitor, id, valid.error().message, body, 400);
        }
        if (!existing.is_published) return PostView(visitor, id, "Comments open when the post is published.", body, 409);
        auto comment = deps_.store.CreateComment(id, visitor.user->id, body, [&](const db::Comment& created) {
          return std::vector<db::OutboxMessage>{CommentCreatedEvent(created, traceparent),
                                                CacheInvalidation({PostKey(id)}, traceparent)};
        });
        if (!comment) {
          if (comment.error().code == ErrorCode::kNotFound) {
            return ErrorPage(404, "Not found", "There is no post at this address.", visitor);
          }
          return PostView(visitor, id, "We could not save your comment just now; please try again.", body, 503);
        }
        deps_.cache.Invalidate(PostKey(id));
        Written();
        return Redirect("/posts/" + std::to_string(id) + "#comment-" + std::to_string(comment->id));
      }
      if (!is_author) return ErrorPage(403, "Not yours", "Only the author of this post can change it.", visitor);
      if (action == "delete") {
        auto deleted = deps_.store.DeletePost(id, {CacheInvalidation({PostKey(id), kHomeKeys}, traceparent)});
        if (!deleted && deleted.error().code != ErrorCode::kNotFound) {
          return ErrorPage(503, "Please try again", "We could not delete the post just now.", visitor);
        }
        deps_.cache.Invalidate(PostKey(id));
        deps_.cache.Invalidate(kHomeKeys);
        Written();
        return Redirect("/?notice=deleted");
      }
      const std::string action_url = "/posts/" + std::to_string(id) + "/edit";
      if (!is_post) {
        return Html(200, "web/post_form.html",
                    {{"title", "Edit " + existing.title}, {"is_new", false}, {"action", action_url},
                     {"form", {{"title", existing.title}, {"body", existing.body}, {"published", existing.is_published}}}},
                    visitor);
      }
      const db::PostInput input{.title = FormField(fields, "title"), .body = FormField(fields, "body"),
                                .is_published = FormField(fields, "published") == "on"};
      const auto form_page = [&](int status, const std::string& error) {
        return Html(status, "web/post_form.html",
                    {{"title", "Edit " + existing.title}, {"is_new", false}, {"action", action_url},
                     {"form", {{"title", input.title}, {"body", input.body}, {"published", input.is_published}}},
                     {"error", error}},
                    visitor);
      };
      if (auto valid = ValidatePost(input); !valid) return form_page(400, valid.error().message);
      auto updated = deps_.store.UpdatePost(id, input, [&](const db::Post& before, const db::Post& after) {
        std::vector<db::OutboxMessage> outbox;
        if (!before.is_published && after.is_published) outbox.push_back(PostPublishedEvent(after, traceparent));
        outbox.push_back(CacheInvalidation({PostKey(id), kHomeKeys}, traceparent));
        return outbox;
      });
      if (!updated) return form_page(StatusFor(updated.error().code), "We could not save the post just now; please try again.");
      deps_.cache.Invalidate(PostKey(id));
      deps_.cache.Invalidate(kHomeKeys);
      Written();
      return Redirect("/posts/" + std::to_string(id));
    });
  }

  Offload(deps_.db_pool, request, respond, [this, request]() {
    return ErrorPage(404, "Not found", "There is no page at this address.", Identify(request, false));
  });
}

}  // namespace inkwell::web
