package keel

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// User is an account. PasswordHash never leaves keel: it has no JSON name
// and adapters build their own public shapes.
type User struct {
	ID          uuid.UUID
	Email       string  // trimmed and lower-cased
	FullName    *string // nil when not given
	IsActive    bool
	IsSuperuser bool
	// IsVerified says that the user proved it reads Email's mail (see
	// Config.EmailVerification). A new address is unverified until then.
	IsVerified bool
	// PasswordHash is a PHC string ($argon2id$...) or a bcrypt hash ($2a$...).
	PasswordHash string `json:"-"`
	// PasswordChangedAt voids reset tokens issued before it.
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time

	// scope is set by Authenticate on the user of a personal API token,
	// and limits what the user may do as an actor (see access.go): "" for
	// a session's user, and for every user read from the store.
	scope Scope
}

// SignUpInput is what a person gives to open an account.
type SignUpInput struct {
	Email    string  `json:"email" required:"true" validate:"text,max=255,email"`
	Password string  `json:"password" required:"true" validate:"password,notcommon"`
	FullName *string `json:"full_name" validate:"omitnil,text,max=255"`
}

// CreateUserInput is what a superuser gives to create an account.
type CreateUserInput struct {
	Email    string  `json:"email" required:"true" validate:"text,max=255,email"`
	Password string  `json:"password" required:"true" validate:"password,notcommon"`
	FullName *string `json:"full_name" validate:"omitnil,text,max=255"`
	// IsActive defaults to true when nil.
	IsActive    *bool `json:"is_active"`
	IsSuperuser bool  `json:"is_superuser"`
	// IsVerified creates the user with its address verified: the
	// superuser vouches for it, and no verification email is sent.
	IsVerified bool `json:"is_verified"`
}

// UpdateMeInput is what a user may change of itself. Absent fields stay.
type UpdateMeInput struct {
	FullName Optional[*string] `json:"full_name" optional:"text,max=255"`
	Email    Optional[string]  `json:"email" optional:"text,max=255,email"`
}

// UpdateUserInput is what a superuser may change of any user. Absent
// fields stay.
type UpdateUserInput struct {
	Email       Optional[string]  `json:"email" optional:"text,max=255,email"`
	FullName    Optional[*string] `json:"full_name" optional:"text,max=255"`
	Password    Optional[string]  `json:"password" optional:"password,notcommon"`
	IsActive    Optional[bool]    `json:"is_active"`
	IsSuperuser Optional[bool]    `json:"is_superuser"`
	// IsVerified marks the address verified (or not). A new email without
	// it is unverified.
	IsVerified Optional[bool] `json:"is_verified"`
}

// ListOptions pages a list. Limit 0 means Config.DefaultPageLimit;
// otherwise Skip and Limit must pass Service.CheckPage.
//
// Offset paging (Skip) is the default. Cursor, when not empty, is the Next
// cursor of an earlier page (ItemPage, AuditPage): the list then starts
// right after that page's last row, at a cost that does not grow with the
// depth of the page as Skip's does (Skip still applies, after the cursor).
// Only the lists of items and of audit events take a cursor.
type ListOptions struct {
	Skip   int    `json:"skip"`
	Limit  int    `json:"limit"`
	Cursor string `json:"cursor"`
}

// SignUp opens an account for anyone: active, not a superuser, and
// unverified; with verification on, a verification email goes to it.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (*User, error) {
	return s.createUser(ctx, EventSignedUp, nil, CreateUserInput{Email: in.Email, Password: in.Password, FullName: in.FullName})
}

// CreateUser creates an account as a superuser, who may set IsActive,
// IsSuperuser and IsVerified. With verification on, an unverified user
// gets a verification email.
func (s *Service) CreateUser(ctx context.Context, actor *User, in CreateUserInput) (*User, error) {
	if err := requireSuperuser(actor, toWrite); err != nil {
		return nil, err
	}
	return s.createUser(ctx, EventUserCreated, actor, in)
}

// Bootstrap creates an active superuser with no acting user: the way in
// to a store that has no superuser to act yet, for a program's start-up
// configuration (cmd/keel's FIRST_SUPERUSER) and its operator's command
// line (keel createsuperuser). It creates and never changes: when a user
// has the email it returns ErrEmailTaken and leaves that user as it is, so
// it is safe to run at every start and cannot promote anyone. Its caller's
// authority is running the program, so no request may reach it: a client
// opens an account with SignUp, and a superuser makes another with
// CreateUser. The operator vouches for the address: it is verified.
func (s *Service) Bootstrap(ctx context.Context, in SignUpInput) (*User, error) {
	return s.createUser(ctx, EventUserCreated, nil, CreateUserInput{Email: in.Email, Password: in.Password, FullName: in.FullName, IsSuperuser: true, IsVerified: true})
}

// createUser creates the account and emits kind (by actor; by the new user
// itself for a sign-up, by nobody for Bootstrap) in its transaction.
func (s *Service) createUser(ctx context.Context, kind EventKind, actor *User, in CreateUserInput) (*User, error) {
	in.Email = NormalizeEmail(in.Email)
	if err := s.validate(in); err != nil {
		return nil, err
	}
	// Looking first saves a costly hash on an obvious duplicate; the store's
	// unique index still settles races.
	if _, err := s.db(ctx).UserByEmail(ctx, in.Email); err == nil {
		return nil, ErrEmailTaken
	} else if ErrorCode(err) != NotFound {
		return nil, classify(err, Internal)
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	now := s.now()
	u := &User{
		ID:                newID(),
		Email:             in.Email,
		FullName:          in.FullName,
		IsActive:          in.IsActive == nil || *in.IsActive,
		IsSuperuser:       in.IsSuperuser,
		IsVerified:        in.IsVerified,
		PasswordHash:      hash,
		PasswordChangedAt: now,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	actorID := uuid.Nil
	switch {
	case actor != nil:
		actorID = actor.ID
	case kind == EventSignedUp:
		actorID = u.ID
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := s.emit(ctx, tx, s.newEvent(ctx, kind, actorID, u)); err != nil {
			return err
		}
		if s.verifying() && !u.IsVerified && u.IsActive {
			return s.sendVerification(ctx, tx, actorID, u)
		}
		return nil
	})
	if err != nil {
		return nil, userError(err)
	}
	return u, nil
}

// User returns a user. Anyone may read itself; only a superuser may read
// others.
func (s *Service) User(ctx context.Context, actor *User, id uuid.UUID) (*User, error) {
	if err := requireActive(actor, toRead); err != nil {
		return nil, err
	}
	if id != actor.ID && !actor.IsSuperuser {
		return nil, ErrNotSuperuser
	}
	u, err := s.db(ctx).User(ctx, id)
	if err != nil {
		return nil, userError(err)
	}
	return u, nil
}

// Users lists users, newest first, with the total count. Superuser only.
func (s *Service) Users(ctx context.Context, actor *User, opts ListOptions) ([]*User, int, error) {
	if err := requireSuperuser(actor, toRead); err != nil {
		return nil, 0, err
	}
	if opts.Cursor != "" {
		f := violation("cursor", Unsupported, 0, opts.Cursor)
		f.Message = "is not taken: users are paged with skip"
		return nil, 0, invalid(f)
	}
	p, err := s.page(opts)
	if err != nil {
		return nil, 0, err
	}
	users, n, err := s.db(ctx).ListUsers(ctx, p)
	if err != nil {
		return nil, 0, classify(err, Internal)
	}
	return users, n, nil
}

// UpdateMe changes the actor's own name or email. Changing the email takes
// a session, not an API token. With verification off a new email takes
// effect at once, unverified; with it on, the new address gets a link
// that makes the change (ConfirmEmailChange), the current one a notice,
// and the user returned still has its current email. A taken email is
// ErrEmailTaken either way.
func (s *Service) UpdateMe(ctx context.Context, actor *User, in UpdateMeInput) (*User, error) {
	n := toWrite
	if in.Email.Set {
		n = bySession
	}
	if err := requireActive(actor, n); err != nil {
		return nil, err
	}
	if in.Email.Set {
		in.Email.Value = NormalizeEmail(in.Email.Value)
	}
	if err := s.validate(in); err != nil {
		return nil, err
	}
	var pendingEmail string
	if s.verifying() && in.Email.Set {
		// The address changes only once the new one confirms it
		// (ConfirmEmailChange); the answer shows the current one.
		if in.Email.Value != actor.Email {
			pendingEmail = in.Email.Value
			if reason, err := s.hitLimits(ctx, s.emailChangeLimit(actor.ID)); err != nil {
				return nil, s.rateLimitRefusal(ctx, reason, err, actor.Email, actor)
			}
		}
		in.Email = Optional[string]{}
	}
	// Read and write in one transaction: UpdateUser replaces every field, so
	// a read outside it would write back a password, flag or session state
	// that a concurrent change (a reset, a deactivation) has just replaced.
	var out *User
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.User(ctx, actor.ID)
		if err != nil {
			return err
		}
		var changes []string
		if in.FullName.Set && !sameName(u.FullName, in.FullName.Value) {
			u.FullName, changes = in.FullName.Value, append(changes, "full_name")
		}
		if in.Email.Set && u.Email != in.Email.Value {
			u.Email, changes = in.Email.Value, append(changes, "email")
			if u.IsVerified { // a new address is unverified
				u.IsVerified, changes = false, append(changes, "is_verified")
			}
		}
		u.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := s.emitUpdated(ctx, tx, actor.ID, u, changes); err != nil {
			return err
		}
		if pendingEmail != "" && pendingEmail != u.Email {
			if err := s.requestEmailChange(ctx, tx, u, pendingEmail); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, userError(err)
	}
	return out, nil
}

// UpdateUser changes any field of a user. Superuser only. A new password
// or a deactivation ends every session of that user and revokes its API
// tokens; they, and a new email, take a session, not an API token. A new
// email takes effect at once (the superuser vouches for the change) and is
// unverified unless IsVerified says otherwise.
func (s *Service) UpdateUser(ctx context.Context, actor *User, id uuid.UUID, in UpdateUserInput) (*User, error) {
	n := toWrite
	if in.Email.Set || in.Password.Set || (in.IsActive.Set && !in.IsActive.Value) {
		n = bySession
	}
	if err := requireSuperuser(actor, n); err != nil {
		return nil, err
	}
	if in.Email.Set {
		in.Email.Value = NormalizeEmail(in.Email.Value)
	}
	if err := s.validate(in); err != nil {
		return nil, err
	}
	var hash string
	if in.Password.Set {
		h, err := s.hasher.Hash(ctx, in.Password.Value)
		if err != nil {
			return nil, err
		}
		hash = h
	}
	var out *User
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		wasActive := u.IsActive
		var changes []string
		wasVerified := u.IsVerified
		if in.Email.Set && u.Email != in.Email.Value {
			u.Email, u.IsVerified, changes = in.Email.Value, false, append(changes, "email") // a new address is unverified
		}
		if in.IsVerified.Set {
			u.IsVerified = in.IsVerified.Value
		}
		if u.IsVerified != wasVerified {
			changes = append(changes, "is_verified")
		}
		if in.FullName.Set && !sameName(u.FullName, in.FullName.Value) {
			u.FullName, changes = in.FullName.Value, append(changes, "full_name")
		}
		if in.IsActive.Set && u.IsActive != in.IsActive.Value {
			u.IsActive, changes = in.IsActive.Value, append(changes, "is_active")
		}
		if in.IsSuperuser.Set && u.IsSuperuser != in.IsSuperuser.Value {
			u.IsSuperuser, changes = in.IsSuperuser.Value, append(changes, "is_superuser")
		}
		if in.Password.Set {
			u.PasswordHash = hash
			u.PasswordChangedAt = now
			changes = append(changes, "password")
		}
		u.UpdatedAt = now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		var sessions, tokens int64
		if in.Password.Set || (wasActive && !u.IsActive) {
			if sessions, tokens, err = endCredentials(ctx, tx, u.ID, ""); err != nil {
				return err
			}
		}
		if err := s.emitUpdated(ctx, tx, actor.ID, u, changes); err != nil {
			return err
		}
		if err := s.emitCredentialsEnded(ctx, tx, actor.ID, u, sessions, tokens); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, userError(err)
	}
	return out, nil
}

// DeleteUser deletes a user with its items, sessions and API tokens. A
// user may delete itself unless it is a superuser; only a superuser may
// delete others. It takes a session, not an API token.
func (s *Service) DeleteUser(ctx context.Context, actor *User, id uuid.UUID) error {
	if err := requireActive(actor, bySession); err != nil {
		return err
	}
	if id == actor.ID {
		if actor.IsSuperuser {
			return ErrDeleteSelf
		}
	} else if !actor.IsSuperuser {
		return ErrNotSuperuser
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		// End the sessions and tokens first, to count them; DeleteUser
		// would take them with it.
		sessions, tokens, err := endCredentials(ctx, tx, id, "")
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		if err := s.emit(ctx, tx, s.newEvent(ctx, EventUserDeleted, actor.ID, u)); err != nil {
			return err
		}
		return s.emitCredentialsEnded(ctx, tx, actor.ID, u, sessions, tokens)
	})
	if err != nil {
		return userError(err)
	}
	return nil
}

// emitUpdated emits EventUserUpdated for the changes made to u, when there
// are any.
func (s *Service) emitUpdated(ctx context.Context, tx Tx, actorID uuid.UUID, u *User, changes []string) error {
	if len(changes) == 0 {
		return nil
	}
	e := s.newEvent(ctx, EventUserUpdated, actorID, u)
	e.Changes = changes
	return s.emit(ctx, tx, e)
}

// sameName reports whether two optional full names are the same.
func sameName(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// CheckPage reports whether skip and limit ask for a page a list may
// serve: skip at least 0, limit from 1 to Config.MaxPageLimit. It returns
// nil, or an Invalid *Error with a TooSmall or TooLarge FieldError for
// "skip" and for "limit". The list methods check their ListOptions with
// it once a zero Limit has become Config.DefaultPageLimit; an adapter to
// which a limit of 0 is a mistake, not "the default", checks with it
// first.
func (s *Service) CheckPage(skip, limit int) error {
	var fields []FieldError
	if skip < 0 {
		fields = append(fields, violation("skip", TooSmall, 0, skip))
	}
	switch {
	case limit < 1:
		fields = append(fields, violation("limit", TooSmall, 1, limit))
	case limit > s.cfg.MaxPageLimit:
		fields = append(fields, violation("limit", TooLarge, s.cfg.MaxPageLimit, limit))
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	return nil
}

// page checks list options and turns them into a store Page.
func (s *Service) page(o ListOptions) (Page, error) {
	if o.Limit == 0 {
		o.Limit = s.cfg.DefaultPageLimit
	}
	if err := s.CheckPage(o.Skip, o.Limit); err != nil {
		return Page{}, err
	}
	p := Page{Offset: o.Skip, Limit: o.Limit}
	if o.Cursor != "" {
		c, err := ParseCursor(o.Cursor)
		if err != nil {
			return Page{}, err
		}
		p.After = &c
	}
	return p, nil
}

// userError gives a store error on a user its meaning: a missing row is
// ErrUserNotFound, a taken email ErrEmailTaken.
func userError(err error) error {
	if v, ok := vetoed(err); ok {
		return v
	}
	switch ErrorCode(err) {
	case NotFound:
		return ErrUserNotFound.withCause(err)
	case Conflict:
		return ErrEmailTaken.withCause(err)
	}
	return classify(err, Internal)
}
