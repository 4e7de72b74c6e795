#pragma once

#include "db/store.h"

// The SELECT lists and row mappers that every store engine shares: the SQL is the same on SQLite,
// PostgreSQL and MariaDB, and a mapper reads any row type with Int(column) and Text(column)
// (SqliteDatabase::Statement, SqlRow). A statement is one of these lists + "WHERE ...".
namespace inkwell::db::sql_shapes {

inline constexpr const char* kUserColumns =
    "SELECT users.id, users.name, users.email, users.password_hash,"
    " CASE WHEN users.confirmed_at_ms IS NULL THEN 0 ELSE 1 END, users.created_at_ms"
    " FROM users ";

inline constexpr const char* kPageColumns =
    "SELECT pages.id, pages.slug, pages.title, pages.body, pages.author_id, users.name,"
    " pages.created_at_ms, pages.updated_at_ms FROM pages JOIN users ON users.id = "
    "pages.author_id ";

inline constexpr const char* kPostColumns =
    "SELECT posts.id, posts.title, posts.body, posts.is_published, posts.author_id, users.name,"
    " posts.created_at_ms, posts.updated_at_ms,"
    " (SELECT COUNT(*) FROM comments WHERE comments.post_id = posts.id)"
    " FROM posts JOIN users ON users.id = posts.author_id ";

inline constexpr const char* kCommentColumns =
    "SELECT comments.id, comments.post_id, comments.author_id, users.name, comments.body,"
    " comments.created_at_ms FROM comments JOIN users ON users.id = comments.author_id ";

template <typename Row>
User UserFrom(const Row& row) {
  return User{row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Int(4) != 0, row.Int(5)};
}

template <typename Row>
Page PageFrom(const Row& row) {
  return Page{row.Int(0), row.Text(1), row.Text(2), row.Text(3),
              row.Int(4), row.Text(5), row.Int(6),  row.Int(7)};
}

template <typename Row>
Post PostFrom(const Row& row) {
  return Post{row.Int(0),  row.Text(1), row.Text(2), row.Int(3) != 0, row.Int(4),
              row.Text(5), row.Int(6),  row.Int(7),  row.Int(8)};
}

template <typename Row>
Comment CommentFrom(const Row& row) {
  return Comment{row.Int(0), row.Int(1), row.Int(2), row.Text(3), row.Text(4), row.Int(5)};
}

}  // namespace inkwell::db::sql_shapes
