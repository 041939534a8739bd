package consent

import (
	"crypto/ed25519"
	"io"
	"time"

	"github.com/personaldata/personaldata"
)

// Defaults of [Options].
const (
	DefaultNoticePeriod = 30 * 24 * time.Hour
	DefaultAgeOfConsent = 16
	// DefaultCategory is the category personal data of events is sealed
	// under.
	DefaultCategory personaldata.Category = "consent-record"
	// DefaultCheckpointName names the checkpoint key and log.
	DefaultCheckpointName = "personaldata/consent"
)

// Options configure a [Ledger]. Nil Options and zero fields mean the
// documented defaults. New copies them; do not change them concurrently
// with New.
type Options struct {
	// Clock returns the current time; default time.Now.
	Clock func() time.Time
	// Entropy is the randomness of event IDs; default crypto/rand. The
	// ledger serialises reads from it.
	Entropy io.Reader
	// NoticePeriod is the least time between a notice version's
	// announcement and its effective date; default 30 days. Negative means
	// none.
	NoticePeriod time.Duration
	// AgeOfConsent is the age under which a grant counts only when a
	// guardian gives it (GDPR Art. 8); default 16.
	AgeOfConsent int
	// Sealer seals the personal data of events. Without one, recording an
	// event with personal data fails with ErrNoSealer.
	Sealer Sealer
	// Scope and Category personal data is sealed under; defaults
	// personaldata.DefaultScope and DefaultCategory.
	Scope    personaldata.Scope
	Category personaldata.Category
	// ChainKey, if set, keys the chain hashes (HMAC-SHA256), so that
	// someone who can write the store but does not hold the key cannot
	// rewrite a chain consistently. It must stay the same for a store.
	ChainKey []byte
	// Purposes and Notices are registered by New, purposes first, in order,
	// after the definitions already in the store.
	Purposes []Purpose
	Notices  []Notice
	// Receipts describes the controller in consent receipts.
	Receipts ReceiptOptions
	// Retry bounds how [Ledger.Record] retries an append that lost a race
	// with another writer of the same subject.
	Retry Retry
	// CheckpointKey signs the checkpoints of [Ledger.Checkpoint], and its
	// public half verifies Checkpoint. Without it Checkpoint fails.
	CheckpointKey ed25519.PrivateKey
	// CheckpointName is the name of the key and the origin line of the
	// checkpoints; default DefaultCheckpointName. It must be a valid
	// signed-note key name: no spaces or '+'.
	CheckpointName string
	// Checkpoint is the text of the last checkpoint made for the store,
	// which the host kept. New verifies it with CheckpointKey and then
	// checks that every subject it lists is still in the store with a chain
	// that extends the (length, head) it holds: a subject whose tail was
	// deleted or rewritten is loaded as broken. A bad checkpoint fails New
	// with [ErrBadCheckpoint].
	Checkpoint []byte
}

// Retry is the back-off of [Ledger.Record] after [ErrConflict]: attempt n
// (from 0) waits a random time between 0 and min(Max, Base·2ⁿ) (exponential
// back-off with full jitter), then reloads and validates the subject again.
// After Attempts retries the conflict is returned. Zero fields mean the
// defaults: 32 attempts, Base 1ms, Max 250ms, so that a losing writer waits
// at most about 6s in all (3s on average) before it gives up:
// enough for eight processes writing one subject at once on a loaded SQL
// server. Negative Attempts means no retry. The jitter
// needs no secrecy and comes from math/rand/v2.
type Retry struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

// Defaults of [Retry].
const (
	DefaultRetryAttempts = 32
	DefaultRetryBase     = time.Millisecond
	DefaultRetryMax      = 250 * time.Millisecond
)
