// The JSON API (/api/v1/...): docs/openapi.yaml. Authenticated with bearer tokens only (never
// cookies), so no request can be forged from another site's page.
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>

#include "contracts/email_address.h"
#include "core/log.h"
#include "http/form.h"
#include "web/auth.h"
#include "web/content.h"
#include "web/request_util.h"
#include "web/web_app.h"

namespace inkwell::web {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

constexpr std::int64_t kDefaultPageSize = 20;

http::HttpResponse BadPaging() {
  return JsonError(400, "invalid_argument", "page must be 1-100000 and per_page 1-100");
}

tl::expected<Json, http::HttpResponse> JsonBody(const http::HttpRequest& request, const char* shape) {
  if (request.is_body_too_large) {
    return tl::unexpected(JsonError(413, "payload_too_large", "request body is over 64 KiB"));
  }
  if (!HasMediaType(request, "application/json")) {
    return tl::unexpected(JsonError(415, "unsupported_media_type", "send the body as application/json"));
  }
  Json body = Json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return tl::unexpected(
        JsonError(400, "invalid_argument", std::string("body must be a JSON object in UTF-8: ") + shape));
  }
  return body;
}

// A string member; fallback when absent or null; an error response when not a string.
tl::expected<std::string, http::HttpResponse> StringMember(const Json& body, const char* name,
                                                           const std::string& fallback = "") {
  const auto found = body.find(name);
  if (found == body.end() || found->is_null()) return fallback;
  if (!found->is_string()) {
    return tl::unexpected(JsonError(400, "invalid_argument", std::string("field \"") + name + "\" must be a string"));
  }
  return found->get<std::string>();
}

http::HttpResponse Ok(int status, const Json& body) {
  http::HttpResponse response{status, "application/json", {},
                              body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"};
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

http::HttpResponse NoContent() { return http::HttpResponse{204, "application/json", {}, ""}; }

http::HttpResponse Unauthorized() {
  http::HttpResponse response = JsonError(
      401, "unauthorized", "log in first: send Authorization: Bearer <token> from POST /api/v1/sessions");
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

http::HttpResponse StoreError(const core::Error& error, const std::string& what) {
  if (error.code == ErrorCode::kInternal) {
    core::LogError(what + " failed", {{"error", error.message}});
    return JsonError(500, "internal", "internal error");
  }
  return JsonError(StatusFor(error.code), core::NameOf(error.code), error.message);
}

}  // namespace

void WebApp::RouteApi(const http::HttpRequest& request, const std::string& traceparent,
                      http::Responder& respond) {
  const std::vector<std::string> parts = PathSegments(request.path);  // "api", "v1", ...
  const std::string& method = request.method;
  const bool is_get = method == "GET" || method == "HEAD";
  auto not_allowed = [&](const char* allow) {
    http::HttpResponse response =
        JsonError(405, "method_not_allowed", "use " + std::string(allow) + " on " + request.path);
    response.headers.emplace_back("Allow", allow);
    respond(std::move(response));
  };
  auto not_found = [&] { respond(JsonError(404, "not_found", "no such API route: " + request.path)); };
  if (parts.size() < 3 || parts[1] != "v1") return not_found();
  const std::string& collection = parts[2];
  const std::size_t count = parts.size();

  if (collection == "users" && count == 3) {
    if (method != "POST") return not_allowed("POST");
    return RegisterFromJson(request, traceparent, respond);
  }
  if (collection == "sessions" && count == 3) {
    if (method != "POST") return not_allowed("POST");
    return LoginFromJson(request, respond);
  }
  if (collection == "sessions" && count == 4 && parts[3] == "current") {
    if (method != "DELETE" && !is_get) return not_allowed("GET, DELETE");
    return Offload(deps_.db_pool, request, respond, [this, request, is_get]() {
      const Visitor visitor = Identify(request, true);
      if (!visitor.user) return Unauthorized();
      if (is_get) {
        return Ok(200, {{"user", {{"id", visitor.user->id}, {"name", visitor.user->name},
                                  {"email", visitor.user->email}}}});
      }
      if (auto deleted = deps_.store.DeleteSession(HashToken(visitor.session_token)); !deleted) {
        return StoreError(deleted.error(), "logout");
      }
      return NoContent();
    });
  }
  if (collection == "confirmations" && count == 3) {
    if (method != "POST") return not_allowed("POST");
    auto body = JsonBody(request, "{\"email\": string}");
    if (!body) return respond(std::move(body.error()));
    auto email = StringMember(*body, "email");
    if (!email) return respond(std::move(email.error()));
    if (auto address = contracts::EmailAddress::Parse(*email); !address) {
      return respond(JsonError(400, "invalid_argument", address.error().message));
    }
    if (auto limited = Throttle("resend", request, true)) return respond(std::move(*limited));
    return Offload(deps_.db_pool, request, respond, [this, email = *email, traceparent]() {
      if (auto sent = ResendConfirmation(email, traceparent); !sent) return StoreError(sent.error(), "resend");
      // The same answer whether or not such an account exists.
      return Ok(202, {{"status", "accepted"},
                      {"message", "if an unconfirmed account has this address, a new link is on its way"}});
    });
  }
  if (collection == "pages" && (count == 3 || count == 4)) {
    const std::string slug = count == 4 ? parts[3] : "";
    if (count == 3 && !is_get && method != "POST") return not_allowed("GET, POST");
    if (count == 4 && !is_get && method != "PUT" && method != "DELETE") return not_allowed("GET, PUT, DELETE");
    if (count == 4 && !IsValidSlug(slug)) {
      return respond(JsonError(404, "not_found", "no page has this slug (slugs are lower-case letters, digits and hyphens)"));
    }
    return Offload(deps_.db_pool, request, respond, [this, request, slug, traceparent]() {
      return ApiPages(request, Identify(request, true), slug, traceparent);
    });
  }
  if (collection == "posts" && count >= 3 && count <= 5) {
    std::int64_t id = 0;
    if (count >= 4) {
      auto parsed = ParsePositiveId(parts[3]);
      if (!parsed) return respond(JsonError(404, "not_found", "post ids are positive whole numbers"));
      id = *parsed;
    }
    const bool is_comments = count == 5;
    if (is_comments && parts[4] != "comments") return not_found();
    if (count == 3 && !is_get && method != "POST") return not_allowed("GET, POST");
    if (count == 4 && !is_get && method != "PUT" && method != "DELETE") return not_allowed("GET, PUT, DELETE");
    if (is_comments && !is_get && method != "POST") return not_allowed("GET, POST");
    return Offload(deps_.db_pool, request, respond, [this, request, id, is_comments, traceparent]() {
      return ApiPosts(request, Identify(request, true), id, is_comments, traceparent);
    });
  }
  not_found();
}

http::HttpResponse WebApp::ApiPages(const http::HttpRequest& request, const Visitor& visitor,
                                    const std::string& slug, const std::string& traceparent) {
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  if (slug.empty() && is_get) {
    auto paging = ParsePaging(request.query, kDefaultPageSize);
    if (!paging) return BadPaging();
    auto listing = deps_.store.ListPages(paging->offset(), paging->per_page);
    if (!listing) return StoreError(listing.error(), "list pages");
    Json pages = Json::array();
    for (const db::Page& page : listing->items) pages.push_back(PageJson(page, false));
    return Ok(200, {{"pages", pages}, {"page", paging->page}, {"per_page", paging->per_page},
                    {"total", listing->total}});
  }
  std::optional<db::Page> existing;
  if (!slug.empty()) {
    auto found = deps_.store.FindPage(slug);
    if (!found) return StoreError(found.error(), "find page");
    if (!*found) return JsonError(404, "not_found", "no page has the slug \"" + slug + "\"");
    existing = std::move(**found);
    if (is_get) return Ok(200, PageJson(*existing, true));
  }
  if (!visitor.user) return Unauthorized();
  if (existing && existing->author_id != visitor.user->id) {
    return JsonError(403, "forbidden", "only the page's author can change it");
  }
  if (request.method == "DELETE") {
    auto deleted = deps_.store.DeletePage(
        existing->id, {PageDeletedEvent(*existing, traceparent),
                       CacheInvalidation({PageKey(existing->slug), kPagesKeys}, traceparent)});
    if (!deleted) return StoreError(deleted.error(), "delete page");
    deps_.cache.Invalidate(PageKey(existing->slug));
    deps_.cache.Invalidate(kPagesKeys);
    Written();
    return NoContent();
  }
  auto body = JsonBody(request, "{\"title\": string, \"slug\": string, \"body\": string}");
  if (!body) return body.error();
  db::PageInput input;
  for (const auto& [name, target, fallback] :
       {std::tuple{"title", &input.title, existing ? existing->title : ""},
        std::tuple{"slug", &input.slug, existing ? existing->slug : ""},
        std::tuple{"body", &input.body, existing ? existing->body : ""}}) {
    auto value = StringMember(*body, name, fallback);
    if (!value) return value.error();
    *target = std::move(*value);
  }
  if (auto valid = ValidatePage(input); !valid) return JsonError(400, "invalid_argument", valid.error().message);
  const std::string old_slug = existing ? existing->slug : "";
  const auto outbox_for = [&](const db::Page& page) {
    std::vector<std::string> keys = {PageKey(page.slug), kPagesKeys};
    if (!old_slug.empty() && old_slug != page.slug) keys.push_back(PageKey(old_slug));
    return std::vector<db::OutboxMessage>{PageUpdatedEvent(page, old_slug, traceparent),
                                          CacheInvalidation(keys, traceparent)};
  };
  auto saved = existing ? deps_.store.UpdatePage(existing->id, input, outbox_for)
                        : deps_.store.CreatePage(visitor.user->id, input, outbox_for);
  if (!saved) {
    if (saved.error().code == ErrorCode::kConflict) {
      return JsonError(409, "conflict", "a page with the slug \"" + input.slug + "\" exists already");
    }
    return StoreError(saved.error(), "save page");
  }
  if (!old_slug.empty()) deps_.cache.Invalidate(PageKey(old_slug));
  deps_.cache.Invalidate(PageKey(saved->slug));
  deps_.cache.Invalidate(kPagesKeys);
  Written();
  http::HttpResponse response = Ok(existing ? 200 : 201, PageJson(*saved, true));
  if (!existing) response.headers.emplace_back("Location", "/api/v1/pages/" + saved->slug);
  return response;
}

http::HttpResponse WebApp::ApiPosts(const http::HttpRequest& request, const Visitor& visitor,
                                    std::int64_t id, bool is_comments, const std::string& traceparent) {
  const bool is_get = request.method == "GET" || request.method == "HEAD";
  const std::int64_t viewer = visitor.user ? visitor.user->id : 0;
  if (id == 0 && is_get) {
    auto paging = ParsePaging(request.query, kDefaultPageSize);
    if (!paging) return BadPaging();
    auto listing = deps_.store.ListPosts(viewer, paging->offset(), paging->per_page);
    if (!listing) return StoreError(listing.error(), "list posts");
    Json posts = Json::array();
    for (const db::Post& post : listing->items) posts.push_back(PostJson(post, false));
    return Ok(200, {{"posts", posts}, {"page", paging->page}, {"per_page", paging->per_page},
                    {"total", listing->total}});
  }
  std::optional<db::Post> existing;
  if (id != 0) {
    auto found = deps_.store.FindPost(id);
    if (!found) return StoreError(found.error(), "find post");
    // A draft is its author's alone: to anyone else it does not exist.
    if (!*found || (!(*found)->is_published && (*found)->author_id != viewer)) {
      return JsonError(404, "not_found", "no post has the id " + std::to_string(id));
    }
    existing = std::move(**found);
    if (is_get && !is_comments) return Ok(200, PostJson(*existing, true));
  }
  if (is_comments && is_get) {
    auto paging = ParsePaging(request.query, kDefaultPageSize);
    if (!paging) return BadPaging();
    auto listing = deps_.store.ListComments(id, paging->offset(), paging->per_page);
    if (!listing) return StoreError(listing.error(), "list comments");
    Json comments = Json::array();
    for (const db::Comment& comment : listing->items) comments.push_back(CommentJson(comment));
    return Ok(200, {{"comments", comments}, {"page", paging->page}, {"per_page", paging->per_page},
                    {"total", listing->total}});
  }
  if (!visitor.user) return Unauthorized();
  if (is_comments) {
    auto body = JsonBody(request, "{\"body\": string}");
    if (!body) return body.error();
    auto text = StringMember(*body, "body");
    if (!text) return text.error();
    if (auto valid = ValidateComment(*text); !valid) return JsonError(400, "invalid_argument", valid.error().message);
    if (!existing->is_published) return JsonError(409, "conflict", "comments open when the post is published");
    auto comment = deps_.store.CreateComment(id, visitor.user->id, *text, [&](const db::Comment& created) {
      return std::vector<db::OutboxMessage>{CommentCreatedEvent(created, traceparent),
                                            CacheInvalidation({PostKey(id)}, traceparent)};
    });
    if (!comment) return StoreError(comment.error(), "create comment");
    deps_.cache.Invalidate(PostKey(id));
    Written();
    return Ok(201, CommentJson(*comment));
  }
  if (existing && existing->author_id != visitor.user->id) {
    return JsonError(403, "forbidden", "only the post's author can change it");
  }
  if (request.method == "DELETE") {
    auto deleted = deps_.store.DeletePost(id, {CacheInvalidation({PostKey(id), kHomeKeys}, traceparent)});
    if (!deleted) return StoreError(deleted.error(), "delete post");
    deps_.cache.Invalidate(PostKey(id));
    deps_.cache.Invalidate(kHomeKeys);
    Written();
    return NoContent();
  }
  auto body = JsonBody(request, "{\"title\": string, \"body\": string, \"published\": boolean}");
  if (!body) return body.error();
  db::PostInput input;
  auto title = StringMember(*body, "title", existing ? existing->title : "");
  if (!title) return title.error();
  auto text = StringMember(*body, "body", existing ? existing->body : "");
  if (!text) return text.error();
  input.title = std::move(*title);
  input.body = std::move(*text);
  input.is_published = existing ? existing->is_published : false;
  if (const auto published = body->find("published"); published != body->end() && !published->is_null()) {
    if (!published->is_boolean()) return JsonError(400, "invalid_argument", "field \"published\" must be true or false");
    input.is_published = published->get<bool>();
  }
  if (auto valid = ValidatePost(input); !valid) return JsonError(400, "invalid_argument", valid.error().message);
  core::Result<db::Post> saved;
  if (existing) {
    saved = deps_.store.UpdatePost(id, input, [&](const db::Post& before, const db::Post& after) {
      std::vector<db::OutboxMessage> outbox;
      if (!before.is_published && after.is_published) outbox.push_back(PostPublishedEvent(after, traceparent));
      outbox.push_back(CacheInvalidation({PostKey(id), kHomeKeys}, traceparent));
      return outbox;
    });
  } else {
    saved = deps_.store.CreatePost(visitor.user->id, input, [&](const db::Post& created) {
      std::vector<db::OutboxMessage> outbox;
      if (created.is_published) outbox.push_back(PostPublishedEvent(created, traceparent));
      outbox.push_back(CacheInvalidation({PostKey(created.id), kHomeKeys}, traceparent));
      return outbox;
    });
  }
  if (!saved) return StoreError(saved.error(), "save post");
  deps_.cache.Invalidate(PostKey(saved->id));
  deps_.cache.Invalidate(kHomeKeys);
  Written();
  http::HttpResponse response = Ok(existing ? 200 : 201, PostJson(*saved, true));
  if (!existing) response.headers.emplace_back("Location", "/api/v1/posts/" + std::to_string(saved->id));
  return response;
}

}  // namespace inkwell::web
