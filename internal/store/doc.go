// Package store is herald's only door to SQLite: it opens the database with
// the pragmas every connection needs, applies the embedded migrations, and
// holds every SQL query herald runs, one file per aggregate (articles,
// changes, subscribers, editions, deliveries, settings).
//
// Data enters from the content tables a CMS writes (read through a
// query_only reader pool) and from herald's own writes (through a single
// writer connection whose transactions begin IMMEDIATE, so a read-then-write
// transaction never fails with SQLITE_BUSY_SNAPSHOT when another process
// writes). It leaves as the domain types of package model.
package store
