-- Accounts at OpenID Connect providers linked to keel users. A provider's
-- account (provider, subject) is linked to one user at most.
CREATE TABLE identities (
    id         TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider   TEXT      NOT NULL,
    subject    TEXT      NOT NULL,
    email      TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);

--bun:split

CREATE UNIQUE INDEX identities_provider_subject_key ON identities (provider, subject);

--bun:split

CREATE INDEX identities_user_id_created_at_id_idx ON identities (user_id, created_at DESC, id DESC);
