-- Schema version 3: replies, edits, deletes, reactions, notification levels,
-- files and moderation (issue #5).

-- Messages: a reply names its parent by seq (same room); edits and deletes change
-- the row in place (a tombstone keeps its seq); every change takes the room's next
-- change number, so a reconnecting client asks for "changed since N".
ALTER TABLE messages ADD COLUMN reply_to INTEGER;          -- parent seq, same room
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at REAL;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN file_id INTEGER REFERENCES files(id);
CREATE INDEX messages_changes ON messages(room_id, change_seq) WHERE change_seq > 0;
CREATE INDEX messages_replies ON messages(room_id, reply_to, seq) WHERE reply_to IS NOT NULL;
CREATE INDEX messages_files ON messages(file_id) WHERE file_id IS NOT NULL;

ALTER TABLE rooms ADD COLUMN latest_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN slow_mode INTEGER NOT NULL DEFAULT 0;   -- seconds; 0 = off
ALTER TABLE rooms ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    emoji      TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at REAL NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) WITHOUT ROWID;

-- Per member: notification level and mute (the member's own choice), room role,
-- and a moderator's mute (NULL: not muted; 0: until unmuted; else until then).
ALTER TABLE members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all'
    CHECK (notify IN ('all', 'mentions', 'none'));
ALTER TABLE members ADD COLUMN notify_muted INTEGER NOT NULL DEFAULT 0;
-- As in Slack: channels alert on mentions only, DMs and groups on every message
-- (storage/rooms.py gives new memberships the same default).
UPDATE members SET notify = 'mentions'
 WHERE room_id IN (SELECT id FROM rooms WHERE kind = 'channel');
ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'moderator', 'member'));
ALTER TABLE members ADD COLUMN muted_until REAL;
UPDATE members SET role = 'owner'
 WHERE EXISTS (SELECT 1 FROM rooms r
                WHERE r.id = members.room_id AND r.kind != 'dm' AND r.created_by = members.user_id);

-- Server roles: owner / admin / member (is_admin stays true for owner and admin).
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('owner', 'admin', 'member'));
UPDATE users SET role = 'admin' WHERE is_admin = 1;
UPDATE users SET role = 'owner' WHERE id = (SELECT min(id) FROM users WHERE is_admin = 1);

CREATE TABLE bans (
    room_id    INTEGER NOT NULL REFERENCES rooms(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    until      REAL,                      -- NULL: until unbanned
    by_id      INTEGER REFERENCES users(id),
    reason     TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    ts        REAL NOT NULL,
    actor_id  INTEGER REFERENCES users(id), -- NULL: the server's admin CLI
    action    TEXT NOT NULL,
    room_id   INTEGER REFERENCES rooms(id),
    target_id INTEGER REFERENCES users(id),
    detail    TEXT NOT NULL DEFAULT '{}'   -- JSON: reason, duration, seq, role...
);
CREATE INDEX audit_log_room ON audit_log(room_id, id);

-- Files: stored once per content under data_dir/files/ab/cdef... (SHA-256); a row
-- per upload that completed, bound to the room it was uploaded to.
CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    name        TEXT NOT NULL,            -- sanitised; never used as a path
    mime        TEXT NOT NULL,
    room_id     INTEGER NOT NULL REFERENCES rooms(id),
    uploader_id INTEGER NOT NULL REFERENCES users(id),
    created_at  REAL NOT NULL
);
CREATE INDEX files_uploader ON files(uploader_id);
CREATE INDEX files_sha256 ON files(sha256);

-- Uploads in progress: the bytes so far live in data_dir/uploads/<id>.part.
CREATE TABLE uploads (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    room_id    INTEGER NOT NULL REFERENCES rooms(id),
    name       TEXT NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    received   INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX uploads_user ON uploads(user_id, sha256, size);
