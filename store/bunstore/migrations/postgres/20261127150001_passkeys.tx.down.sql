DROP TABLE passkeys;

--bun:split

DROP TABLE webauthn_user_handles;
