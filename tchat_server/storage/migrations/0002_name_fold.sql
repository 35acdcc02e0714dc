-- Schema version 2: user names are found whatever their case ("Alice" logs in as
-- alice, "@Bob" mentions bob). name_fold holds the casefolded name; lower() covers
-- ASCII here and UserStore.refresh_name_folds() fixes any other name at start-up.

ALTER TABLE users ADD COLUMN name_fold TEXT;
UPDATE users SET name_fold = lower(name);
CREATE UNIQUE INDEX users_name_fold ON users(name_fold);
