// Package storetest is the conformance suite for keel.Store. Every store's
// tests call Run, so that every store keeps the contract written in keel's
// store.go, clause by clause, in the same way.
//
// A store's test looks like this:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) keel.Store {
//			s := memstore.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The helpers NewUser, NewItem, NewSession, NewResetToken, NewAPIToken,
// NewAuditEvent, NewOneTimeToken, NewTOTP, NewIdentity, NewPasskey,
// NewUserHandle and NewAuthFlow build valid, unsaved records (UUIDv7 ids,
// UTC times truncated to microseconds) for tests of stores and of code
// that uses them.
package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// Run runs the whole suite against the stores newStore makes. newStore is
// called once per subtest and must return a fresh, empty store (its own
// database or schema when the store is shared); it should register the
// store's clean-up (Close, dropping a schema) with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) keel.Store) {
	t.Helper()
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore) })
	t.Run("Items", func(t *testing.T) { testItems(t, newStore) })
	t.Run("ItemCounts", func(t *testing.T) { testItemCounts(t, newStore) })
	t.Run("Cascades", func(t *testing.T) { testCascades(t, newStore) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, newStore) })
	t.Run("NoLostUpdates", func(t *testing.T) { testNoLostUpdates(t, newStore) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore) })
	t.Run("SessionMetadata", func(t *testing.T) { testSessionMetadata(t, newStore) })
	t.Run("ResetTokens", func(t *testing.T) { testResetTokens(t, newStore) })
	t.Run("APITokens", func(t *testing.T) { testAPITokens(t, newStore) })
	t.Run("Secrets", func(t *testing.T) { testSecrets(t, newStore) })
	t.Run("OneTimeTokens", func(t *testing.T) { testOneTimeTokens(t, newStore) })
	t.Run("TOTP", func(t *testing.T) { testTOTP(t, newStore) })
	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, newStore) })
	t.Run("Counters", func(t *testing.T) { testCounters(t, newStore) })
	t.Run("DeleteExpired", func(t *testing.T) { testDeleteExpired(t, newStore) })
	t.Run("AuditEvents", func(t *testing.T) { testAuditEvents(t, newStore) })
	t.Run("Ownership", func(t *testing.T) { testOwnership(t, newStore) })
	t.Run("Availability", func(t *testing.T) { testAvailability(t, newStore) })
	t.Run("Identities", func(t *testing.T) { testIdentities(t, newStore) })
	t.Run("Passkeys", func(t *testing.T) { testPasskeys(t, newStore) })
	t.Run("AuthFlows", func(t *testing.T) { testAuthFlows(t, newStore) })
	t.Run("SignInAvailability", func(t *testing.T) { testSignInAvailability(t, newStore) })
}

type newStoreFunc = func(t *testing.T) keel.Store

// Now returns the current time in UTC, truncated to the microsecond: the
// precision every store keeps.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// NewID returns a fresh UUIDv7, as keel makes them.
func NewID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// NewTokenHash returns a random token hash in the shape scs makes them.
func NewTokenHash() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// NewUser returns an unsaved, active user with a fresh UUIDv7 id, a unique
// lower-case email, a full name, a password hash and every time set to Now.
func NewUser() *keel.User {
	id := NewID()
	now := Now()
	name := "Test User"
	return &keel.User{
		ID:                id,
		Email:             "user-" + id.String() + "@example.com",
		FullName:          &name,
		IsActive:          true,
		PasswordHash:      "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		PasswordChangedAt: now,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
}

// NewItem returns an unsaved item of the owner with a fresh UUIDv7 id, a
// title, a description and both times set to Now.
func NewItem(ownerID uuid.UUID) *keel.Item {
	now := Now()
	desc := "A test item"
	return &keel.Item{
		ID:          NewID(),
		Title:       "Item",
		Description: &desc,
		OwnerID:     ownerID,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

// NewSession returns an unsaved session of the user with a fresh UUIDv7
// id, a random token hash, some data, the expiry, both times set to Now, and
// a client address and user agent.
func NewSession(userID uuid.UUID, expiry time.Time) *keel.SessionRecord {
	now := Now()
	return &keel.SessionRecord{
		ID:         NewID(),
		TokenHash:  NewTokenHash(),
		UserID:     userID,
		Data:       []byte("session data \x00\xff"),
		Expiry:     expiry.UTC().Truncate(time.Microsecond),
		CreatedAt:  now,
		LastUsedAt: now,
		ClientAddr: "2001:db8::1",
		UserAgent:  "storetest/1.0 (Björk's browser)",
	}
}

// NewAPIToken returns an unsaved, never used API token of the user with a
// fresh UUIDv7 id, a random token hash, a name and the full scope, created
// at now and expiring at expires.
func NewAPIToken(userID uuid.UUID, now, expires time.Time) *keel.APIToken {
	return &keel.APIToken{
		ID:        NewID(),
		UserID:    userID,
		Name:      "deploy bot ✓",
		Scope:     keel.ScopeFull,
		TokenHash: NewTokenHash(),
		CreatedAt: now.UTC().Truncate(time.Microsecond),
		ExpiresAt: expires.UTC().Truncate(time.Microsecond),
	}
}

// NewResetToken returns an unsaved reset token of the user with a random
// hash, created at now and expiring at expires.
func NewResetToken(userID uuid.UUID, now, expires time.Time) *keel.ResetToken {
	return &keel.ResetToken{
		TokenHash: NewTokenHash(),
		UserID:    userID,
		CreatedAt: now.UTC().Truncate(time.Microsecond),
		ExpiresAt: expires.UTC().Truncate(time.Microsecond),
	}
}

// NewOneTimeToken returns an unsaved one-time token of the user for the
// purpose and email, with a random hash, created at now and expiring at
// expires.
func NewOneTimeToken(userID uuid.UUID, purpose keel.TokenPurpose, email string, now, expires time.Time) *keel.OneTimeToken {
	return &keel.OneTimeToken{
		TokenHash: NewTokenHash(),
		UserID:    userID,
		Purpose:   purpose,
		Email:     email,
		CreatedAt: now.UTC().Truncate(time.Microsecond),
		ExpiresAt: expires.UTC().Truncate(time.Microsecond),
	}
}

// NewTOTP returns an unsaved, pending (unconfirmed) TOTP of the user with
// random secret bytes (every byte value, NUL included, may occur), LastStep
// 0 and CreatedAt Now.
func NewTOTP(userID uuid.UUID) *keel.TOTP {
	secret := make([]byte, 48)
	_, _ = rand.Read(secret)
	secret[0], secret[1] = 0, 0xff
	return &keel.TOTP{UserID: userID, Secret: secret, CreatedAt: Now()}
}

// ---- helpers that save fixtures and fail the test when they cannot ----

func mustCreateUser(t *testing.T, s keel.Store, u *keel.User) *keel.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", u.Email, err)
	}
	return u
}

func mustCreateItem(t *testing.T, s keel.Store, it *keel.Item) *keel.Item {
	t.Helper()
	if err := s.CreateItem(t.Context(), it); err != nil {
		t.Fatalf("CreateItem(%s): %v", it.ID, err)
	}
	return it
}

func mustCreateSession(t *testing.T, s keel.Store, r *keel.SessionRecord) *keel.SessionRecord {
	t.Helper()
	if err := s.CreateSession(t.Context(), r); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return r
}

func mustCreateAPIToken(t *testing.T, s keel.Store, tok *keel.APIToken) *keel.APIToken {
	t.Helper()
	if err := s.CreateAPIToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	return tok
}

func mustCreateResetToken(t *testing.T, s keel.Store, r *keel.ResetToken) *keel.ResetToken {
	t.Helper()
	if err := s.CreateResetToken(t.Context(), r); err != nil {
		t.Fatalf("CreateResetToken: %v", err)
	}
	return r
}

func mustCreateOneTimeToken(t *testing.T, s keel.Store, tok *keel.OneTimeToken) *keel.OneTimeToken {
	t.Helper()
	if err := s.CreateOneTimeToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateOneTimeToken: %v", err)
	}
	return tok
}

func mustPutTOTP(t *testing.T, s keel.Store, tp *keel.TOTP) *keel.TOTP {
	t.Helper()
	if err := s.PutTOTP(t.Context(), tp); err != nil {
		t.Fatalf("PutTOTP: %v", err)
	}
	return tp
}

func mustUser(t *testing.T, s keel.Store, id uuid.UUID) *keel.User {
	t.Helper()
	u, err := s.User(t.Context(), id)
	if err != nil {
		t.Fatalf("User(%s): %v", id, err)
	}
	return u
}

func mustItem(t *testing.T, s keel.Store, id uuid.UUID) *keel.Item {
	t.Helper()
	it, err := s.Item(t.Context(), id)
	if err != nil {
		t.Fatalf("Item(%s): %v", id, err)
	}
	return it
}

// ---- assertions ----

// wantCode fails the test unless err is an error with the code.
func wantCode(t *testing.T, what string, err error, want keel.Code) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: err = nil, want code %v", what, want)
		return
	}
	if got := keel.ErrorCode(err); got != want {
		t.Errorf("%s: err = %v (code %v), want code %v", what, err, got, want)
	}
}

// wantNoError fails the test when err is not nil.
func wantNoError(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v is in %v, want UTC", what, got, got.Location())
	}
}

func checkStringPtr(t *testing.T, what string, got, want *string) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil:
		t.Errorf("%s = nil, want %q", what, *want)
	case want == nil:
		t.Errorf("%s = %q, want nil", what, *got)
	case *got != *want:
		t.Errorf("%s = %q, want %q", what, *got, *want)
	}
}

func checkUser(t *testing.T, what string, got, want *keel.User) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: user = nil, want %s", what, want.ID)
		return
	}
	if got.ID != want.ID {
		t.Errorf("%s: ID = %s, want %s", what, got.ID, want.ID)
	}
	if got.Email != want.Email {
		t.Errorf("%s: Email = %q, want %q", what, got.Email, want.Email)
	}
	checkStringPtr(t, what+": FullName", got.FullName, want.FullName)
	if got.IsActive != want.IsActive {
		t.Errorf("%s: IsActive = %v, want %v", what, got.IsActive, want.IsActive)
	}
	if got.IsSuperuser != want.IsSuperuser {
		t.Errorf("%s: IsSuperuser = %v, want %v", what, got.IsSuperuser, want.IsSuperuser)
	}
	if got.IsVerified != want.IsVerified {
		t.Errorf("%s: IsVerified = %v, want %v", what, got.IsVerified, want.IsVerified)
	}
	if got.PasswordHash != want.PasswordHash {
		t.Errorf("%s: PasswordHash = %q, want %q", what, got.PasswordHash, want.PasswordHash)
	}
	checkTime(t, what+": PasswordChangedAt", got.PasswordChangedAt, want.PasswordChangedAt)
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkItem(t *testing.T, what string, got, want *keel.Item) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: item = nil, want %s", what, want.ID)
		return
	}
	if got.ID != want.ID {
		t.Errorf("%s: ID = %s, want %s", what, got.ID, want.ID)
	}
	if got.Title != want.Title {
		t.Errorf("%s: Title = %q, want %q", what, got.Title, want.Title)
	}
	checkStringPtr(t, what+": Description", got.Description, want.Description)
	if got.OwnerID != want.OwnerID {
		t.Errorf("%s: OwnerID = %s, want %s", what, got.OwnerID, want.OwnerID)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func checkSession(t *testing.T, what string, got, want *keel.SessionRecord) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: session = nil, want one", what)
		return
	}
	if got.ID != want.ID {
		t.Errorf("%s: ID = %s, want %s", what, got.ID, want.ID)
	}
	if got.TokenHash != want.TokenHash {
		t.Errorf("%s: TokenHash = %q, want %q", what, got.TokenHash, want.TokenHash)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %s, want %s", what, got.UserID, want.UserID)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s: Data = %q, want %q", what, got.Data, want.Data)
	}
	checkTime(t, what+": Expiry", got.Expiry, want.Expiry)
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	if got.ClientAddr != want.ClientAddr {
		t.Errorf("%s: ClientAddr = %q, want %q", what, got.ClientAddr, want.ClientAddr)
	}
	if got.UserAgent != want.UserAgent {
		t.Errorf("%s: UserAgent = %q, want %q", what, got.UserAgent, want.UserAgent)
	}
}

func checkAPIToken(t *testing.T, what string, got, want *keel.APIToken) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: API token = nil, want one", what)
		return
	}
	if got.ID != want.ID {
		t.Errorf("%s: ID = %s, want %s", what, got.ID, want.ID)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %s, want %s", what, got.UserID, want.UserID)
	}
	if got.Name != want.Name {
		t.Errorf("%s: Name = %q, want %q", what, got.Name, want.Name)
	}
	if got.Scope != want.Scope {
		t.Errorf("%s: Scope = %q, want %q", what, got.Scope, want.Scope)
	}
	if got.TokenHash != want.TokenHash {
		t.Errorf("%s: TokenHash = %q, want %q", what, got.TokenHash, want.TokenHash)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	checkTime(t, what+": ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func checkResetToken(t *testing.T, what string, got, want *keel.ResetToken) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: reset token = nil, want one", what)
		return
	}
	if got.TokenHash != want.TokenHash {
		t.Errorf("%s: TokenHash = %q, want %q", what, got.TokenHash, want.TokenHash)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %s, want %s", what, got.UserID, want.UserID)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func checkOneTimeToken(t *testing.T, what string, got, want *keel.OneTimeToken) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: one-time token = nil, want one", what)
		return
	}
	if got.TokenHash != want.TokenHash {
		t.Errorf("%s: TokenHash = %q, want %q", what, got.TokenHash, want.TokenHash)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %s, want %s", what, got.UserID, want.UserID)
	}
	if got.Purpose != want.Purpose {
		t.Errorf("%s: Purpose = %q, want %q", what, got.Purpose, want.Purpose)
	}
	if got.Email != want.Email {
		t.Errorf("%s: Email = %q, want %q", what, got.Email, want.Email)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func checkTOTP(t *testing.T, what string, got, want *keel.TOTP) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: TOTP = nil, want one", what)
		return
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %s, want %s", what, got.UserID, want.UserID)
	}
	if !bytes.Equal(got.Secret, want.Secret) {
		t.Errorf("%s: Secret = %x, want %x", what, got.Secret, want.Secret)
	}
	if want.ConfirmedAt.IsZero() {
		if !got.ConfirmedAt.IsZero() {
			t.Errorf("%s: ConfirmedAt = %v, want the zero time (pending)", what, got.ConfirmedAt)
		}
	} else {
		checkTime(t, what+": ConfirmedAt", got.ConfirmedAt, want.ConfirmedAt)
	}
	if got.LastStep != want.LastStep {
		t.Errorf("%s: LastStep = %d, want %d", what, got.LastStep, want.LastStep)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
}

func checkCounter(t *testing.T, what string, got keel.Counter, wantCount int64, wantResetAt time.Time) {
	t.Helper()
	if got.Count != wantCount {
		t.Errorf("%s: Count = %d, want %d", what, got.Count, wantCount)
	}
	if wantResetAt.IsZero() {
		if !got.ResetAt.IsZero() {
			t.Errorf("%s: ResetAt = %v, want the zero time", what, got.ResetAt)
		}
		return
	}
	checkTime(t, what+": ResetAt", got.ResetAt, wantResetAt)
}

// checkIDs fails the test unless got lists exactly the ids, in order.
func checkIDs(t *testing.T, what string, got, want []uuid.UUID) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, fmtIDs(got), fmtIDs(want))
	}
}

func fmtIDs(ids []uuid.UUID) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s", id.String()[24:]) // the random tail tells them apart
	}
	b.WriteByte(']')
	return b.String()
}

// ---- ordering fixture ----

// stamp is the (CreatedAt, ID) pair lists order by.
type stamp struct {
	ID        uuid.UUID
	CreatedAt time.Time
}

// newestFirst returns seven stamps in the order a list must return them:
// CreatedAt descending, then ID descending. ID order deliberately disagrees
// with CreatedAt order (the newest has the smallest ID), and stamps 1, 2
// and 3 share a CreatedAt, so a store that sorts by only one of the two
// keys, or by insertion order, gets the order wrong.
func newestFirst() []stamp {
	ids := make([]uuid.UUID, 7)
	for i := range ids {
		ids[i] = NewID()
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	base := Now().Add(-time.Hour)
	return []stamp{
		{ids[0], base.Add(5 * time.Minute)},
		{ids[6], base.Add(3 * time.Minute)},
		{ids[5], base.Add(3 * time.Minute)},
		{ids[4], base.Add(3 * time.Minute)},
		{ids[1], base.Add(2*time.Minute + time.Microsecond)},
		{ids[3], base.Add(2 * time.Minute)},
		{ids[2], base},
	}
}

// insertionOrder is the order the list tests insert the stamps in: neither
// list order nor its reverse.
var insertionOrder = []int{3, 6, 0, 5, 1, 4, 2}

func pick[T any](s []T, idx ...int) []T {
	out := make([]T, 0, len(idx))
	for _, i := range idx {
		out = append(out, s[i])
	}
	return out
}

func stampIDs(st []stamp) []uuid.UUID {
	ids := make([]uuid.UUID, len(st))
	for i, s := range st {
		ids[i] = s.ID
	}
	return ids
}

func userIDs(us []*keel.User) []uuid.UUID {
	ids := make([]uuid.UUID, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func sessionIDs(ss []*keel.SessionRecord) []uuid.UUID {
	ids := make([]uuid.UUID, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

func apiTokenIDs(ts []*keel.APIToken) []uuid.UUID {
	ids := make([]uuid.UUID, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

func itemIDs(its []*keel.Item) []uuid.UUID {
	ids := make([]uuid.UUID, len(its))
	for i, it := range its {
		ids[i] = it.ID
	}
	return ids
}

func ptr[T any](v T) *T { return &v }
