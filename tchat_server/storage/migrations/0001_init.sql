-- tchat schema, version 1. Applied in one transaction by storage/db.py.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    skeleton      TEXT NOT NULL UNIQUE,   -- confusable skeleton: look-alikes collide here
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL
);

CREATE TABLE tokens (
    hash         BLOB PRIMARY KEY,         -- SHA-256 of the token; the token itself is never stored
    user_id      INTEGER NOT NULL REFERENCES users(id),
    client       TEXT NOT NULL DEFAULT '',
    created_at   REAL NOT NULL,
    last_used_at REAL NOT NULL,
    revoked_at   REAL
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE invites (
    code_hash  BLOB PRIMARY KEY,           -- SHA-256 of the invite code
    created_by INTEGER REFERENCES users(id),
    uses_left  INTEGER NOT NULL,
    expires_at REAL,
    created_at REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE rooms (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('channel', 'group', 'dm')),
    name       TEXT NOT NULL,
    name_key   TEXT,                       -- casefolded name of a channel or group; NULL for DMs
    dm_key     TEXT UNIQUE,                -- 'low_user_id:high_user_id' for DMs
    topic      TEXT NOT NULL DEFAULT '',
    latest_seq INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id),
    created_at REAL NOT NULL
);
CREATE UNIQUE INDEX rooms_name_key ON rooms(name_key) WHERE name_key IS NOT NULL;

CREATE TABLE members (
    room_id       INTEGER NOT NULL REFERENCES rooms(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    joined_at     REAL NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members(user_id, room_id);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    room_id       INTEGER NOT NULL REFERENCES rooms(id),
    seq           INTEGER NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES users(id),
    client_msg_id TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    REAL NOT NULL,
    UNIQUE (room_id, seq),
    UNIQUE (author_id, client_msg_id)     -- idempotent sends: a repeat stores nothing
);

CREATE TABLE mentions (
    user_id INTEGER NOT NULL,
    room_id INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
) WITHOUT ROWID;

-- Full-text index over message bodies, kept in step by triggers; ready for search.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
