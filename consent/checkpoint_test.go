package consent_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/note"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

var checkpointKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, 32))

func checkpointLedger(t testing.TB, st consent.Store, checkpoint []byte) (*consent.Ledger, error) {
	t.Helper()
	clk := &testClock{t: startAt}
	return consent.New(context.Background(), st, &consent.Options{Clock: clk.Now, Entropy: rand.NewChaCha8([32]byte{9}),
		Purposes: seedPurposes(), Notices: seedNotices(), CheckpointKey: checkpointKey, Checkpoint: checkpoint})
}

func grants(t *testing.T, l *consent.Ledger, subject personaldata.SubjectID, n int) {
	t.Helper()
	for i := range n {
		typ := consent.EventGrant
		if i%2 == 1 {
			typ = consent.EventWithdraw
		}
		_, err := l.Record(context.Background(), consent.Change{Type: typ, Subject: subject, Purpose: newsletter,
			EffectiveAt: day(i), Method: consent.MethodForm, Actor: consent.ActorSubject})
		require.NoError(t, err)
	}
}

func TestCheckpointIsASignedNote(t *testing.T) {
	t.Parallel()
	l, err := checkpointLedger(t, consent.NewMemoryStore(), nil)
	require.NoError(t, err)
	for i := range 5 {
		grants(t, l, personaldata.SubjectID(fmt.Sprintf("s%d", i)), i+1)
	}
	cp, err := l.Checkpoint(context.Background())
	require.NoError(t, err)
	require.Len(t, cp.Leaves, 5)

	vkey := consent.CheckpointVerifierKey(consent.DefaultCheckpointName, checkpointKey.Public().(ed25519.PublicKey))
	v, err := note.NewVerifier(vkey)
	require.NoError(t, err)
	n, err := note.Open(cp.Note(), note.VerifierList(v))
	require.NoError(t, err, "%s", cp.Note())
	require.Len(t, n.Sigs, 1)
	lines := strings.Split(n.Text, "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, consent.DefaultCheckpointName, lines[0])
	assert.Equal(t, "5", lines[1])
	assert.Equal(t, base64.StdEncoding.EncodeToString(cp.Root[:]), lines[2])

	// Another key does not verify it.
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	v2, err := note.NewVerifier(consent.CheckpointVerifierKey(consent.DefaultCheckpointName, other.Public().(ed25519.PublicKey)))
	require.NoError(t, err)
	_, err = note.Open(cp.Note(), note.VerifierList(v2))
	require.Error(t, err)

	// A note signed by x/mod with the same key is accepted by the parser.
	text, err := cp.MarshalText()
	require.NoError(t, err)
	parsed, err := consent.ParseCheckpoint(text, consent.DefaultCheckpointName, checkpointKey.Public().(ed25519.PublicKey))
	require.NoError(t, err)
	assert.Equal(t, cp.Root, parsed.Root)
	assert.Equal(t, cp.Leaves, parsed.Leaves)
}

func TestCheckpointTextRejectsTampering(t *testing.T) {
	t.Parallel()
	l, err := checkpointLedger(t, consent.NewMemoryStore(), nil)
	require.NoError(t, err)
	grants(t, l, "a", 2)
	grants(t, l, "b", 3)
	cp, err := l.Checkpoint(context.Background())
	require.NoError(t, err)
	text, err := cp.MarshalText()
	require.NoError(t, err)
	pub := checkpointKey.Public().(ed25519.PublicKey)
	tests := []struct {
		name string
		edit func(string) string
	}{
		{"leaf length", func(s string) string { return strings.Replace(s, "leaf 3 ", "leaf 2 ", 1) }},
		{"leaf dropped", func(s string) string { return s[:strings.LastIndex(s[:len(s)-1], "\n")+1] }},
		{"size", func(s string) string { return strings.Replace(s, "\n2\n", "\n1\n", 1) }},
		{"signature", func(s string) string { i := strings.Index(s, "— "); return s[:i+30] + "A" + s[i+31:] }},
		{"no signature", func(s string) string { return s[:strings.Index(s, "\n\n")+2] }},
		{"empty", func(string) string { return "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := consent.ParseCheckpoint([]byte(tc.edit(string(text))), consent.DefaultCheckpointName, pub)
			require.ErrorIs(t, err, consent.ErrBadCheckpoint)
		})
	}
}

func TestCheckpointInclusionProofs(t *testing.T) {
	t.Parallel()
	pub := checkpointKey.Public().(ed25519.PublicKey)
	for size := 1; size <= 9; size++ {
		l, err := checkpointLedger(t, consent.NewMemoryStore(), nil)
		require.NoError(t, err)
		for i := range size {
			grants(t, l, personaldata.SubjectID("s"+strconv.Itoa(i)), 1+i%3)
		}
		cp, err := l.Checkpoint(context.Background())
		require.NoError(t, err)
		for i := range size {
			leaf, index, path, err := cp.InclusionProof(personaldata.SubjectID("s" + strconv.Itoa(i)))
			require.NoError(t, err)
			require.NoError(t, consent.VerifyInclusion(cp.Note(), consent.DefaultCheckpointName, pub, leaf, index, path), "size %d leaf %d", size, i)
			forged := leaf
			forged.Length++
			require.ErrorIs(t, consent.VerifyInclusion(cp.Note(), consent.DefaultCheckpointName, pub, forged, index, path), consent.ErrBadCheckpoint)
			if size > 1 {
				require.Error(t, consent.VerifyInclusion(cp.Note(), consent.DefaultCheckpointName, pub, leaf, (index+1)%uint64(size), path))
			}
		}
		_, _, _, err = cp.InclusionProof("nobody")
		require.ErrorIs(t, err, consent.ErrNotFound)
	}
}

func TestCheckpointDetectsTailAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &dropStore{Store: consent.NewMemoryStore()}
	l, err := checkpointLedger(t, st, nil)
	require.NoError(t, err)
	fourChoices(t, l, "s")
	grants(t, l, "t", 2)
	cp, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	text, err := cp.MarshalText()
	require.NoError(t, err)

	st.drop("s", 1)
	// Without the checkpoint a restarted ledger cannot tell.
	blind, err := checkpointLedger(t, st, nil)
	require.NoError(t, err)
	require.NoError(t, blind.Verify(ctx, "s"))

	l2, err := checkpointLedger(t, st, text)
	require.NoError(t, err)
	_, err = l2.Decide(ctx, "s", newsletter, day(5))
	requireTruncated(t, err, 3)
	requireTruncated(t, l2.Verify(ctx, "s"), 3)
	requireTruncated(t, l2.Sync(ctx, "s"), 3)
	_, err = l2.Decide(ctx, "t", newsletter, day(5))
	require.NoError(t, err, "other subjects are untouched")

	// A rewritten tail of the same length or longer.
	forgeStore := consent.NewMemoryStore()
	f, err := checkpointLedger(t, forgeStore, nil)
	require.NoError(t, err)
	grants(t, f, "s", 1)
	_, err = f.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "s", Purpose: newsletter, EffectiveAt: day(2),
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	require.NoError(t, err)
	grants(t, f, "t", 2)
	ts := &tamperStore{Store: forgeStore}
	l3, err := checkpointLedger(t, ts, text)
	require.NoError(t, err)
	_, err = l3.Decide(ctx, "s", newsletter, day(5))
	require.ErrorIs(t, err, consent.ErrTampered)
	var ce *consent.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, consent.ChainTruncated, ce.Problem, "two forged events where four were")

	// A tail rewritten to be longer.
	longer := consent.NewMemoryStore()
	f2, err := checkpointLedger(t, longer, nil)
	require.NoError(t, err)
	for i, typ := range []consent.EventType{consent.EventGrant, consent.EventWithdraw, consent.EventGrant, consent.EventGrant, consent.EventGrant} {
		_, err := f2.Record(ctx, consent.Change{Type: typ, Subject: "s", Purpose: newsletter, EffectiveAt: day(i),
			Method: consent.MethodForm, Actor: consent.ActorSubject})
		require.NoError(t, err)
	}
	l4, err := checkpointLedger(t, longer, text)
	require.NoError(t, err)
	_, err = l4.Decide(ctx, "s", newsletter, day(5))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, consent.ChainRewritten, ce.Problem)
	assert.Equal(t, 3, ce.Index)
	_, err = l4.Decide(ctx, "t", newsletter, day(5))
	require.ErrorAs(t, err, &ce, "t was deleted")
	assert.Equal(t, consent.ChainTruncated, ce.Problem)

	// A wrong key or a bad text fails New.
	_, err = checkpointLedger(t, st, text[:len(text)/2])
	require.ErrorIs(t, err, consent.ErrBadCheckpoint)
}

func TestCheckpointConsistency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &tamperStore{Store: consent.NewMemoryStore()}
	l, err := checkpointLedger(t, st, nil)
	require.NoError(t, err)
	grants(t, l, "a", 2)
	grants(t, l, "b", 1)
	older, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	grants(t, l, "c", 1)
	_, err = l.Record(ctx, consent.Change{Type: consent.EventGrant, Subject: "a", Purpose: newsletter,
		Method: consent.MethodForm, Actor: consent.ActorSubject})
	require.NoError(t, err)
	newer, err := l.Checkpoint(ctx)
	require.NoError(t, err)
	require.NoError(t, l.VerifyConsistency(ctx, older, newer))
	require.NoError(t, l.VerifyConsistency(ctx, older, older))
	require.ErrorIs(t, l.VerifyConsistency(ctx, newer, older), consent.ErrTampered, "c and a's tail are not in the older one")
	forged := *newer
	forged.Leaves = forged.Leaves[:1]
	require.ErrorIs(t, l.VerifyConsistency(ctx, older, &forged), consent.ErrBadCheckpoint)
	require.ErrorIs(t, l.VerifyConsistency(ctx, older, &consent.Checkpoint{}), consent.ErrBadCheckpoint)

	// A rewritten history between the two does not prove consistent.
	st.set(func(r []consent.StoredEvent) []consent.StoredEvent {
		if len(r) == 3 {
			r[0].Data[20] ^= 1
		}
		return r
	})
	require.ErrorIs(t, l.VerifyConsistency(ctx, older, newer), consent.ErrTampered)
	_ = slices.Clone([]int{})
}
