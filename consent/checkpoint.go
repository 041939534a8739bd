package consent

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// A Checkpoint commits to the chain of every subject at one moment: a
// Merkle tree over one leaf per subject, (subject, length, head hash),
// signed as a transparency log signs its tree head. Its text (see
// [Checkpoint.MarshalText] and the package documentation) is what the host
// keeps; [Checkpoint.Note] is the signed part a third party verifies, and
// [Checkpoint.InclusionProof] proves one subject's leaf to it without
// showing the others. It is a plain value, safe to share.
type Checkpoint struct {
	Origin string           // the origin line: the checkpoint key's name
	Root   [32]byte         // Merkle tree root over Leaves
	Leaves []CheckpointLeaf // one per subject with events, sorted by subject
	note   []byte           // the signed note
}

// A CheckpointLeaf is one subject's chain in a [Checkpoint]: its length and
// the chain hash of its last event.
type CheckpointLeaf struct {
	Subject personaldata.SubjectID
	Length  uint64
	Head    [32]byte
}

// data returns the leaf's bytes in the tree: uvarint length of the subject,
// the subject, the length as 8 bytes big-endian, the head.
func (lf *CheckpointLeaf) data() []byte {
	b := binary.AppendUvarint(make([]byte, 0, 48+len(lf.Subject)), uint64(len(lf.Subject)))
	b = append(b, lf.Subject...)
	b = binary.BigEndian.AppendUint64(b, lf.Length)
	return append(b, lf.Head[:]...)
}

// Hash returns the leaf's Merkle tree hash, SHA-256(0x00 || leaf data).
func (lf CheckpointLeaf) Hash() [32]byte { return leafHash(lf.data()) }

// Checkpoint returns a signed checkpoint of every subject's chain as this
// ledger has verified it (call [Ledger.Sync] first for subjects other
// processes write). A subject whose chain is broken is listed at the head
// it was verified at before, or left out if it never was. It needs
// Options.CheckpointKey. Keep the text ([Checkpoint.MarshalText]) anywhere
// but in the store, and give it to the next ledger as Options.Checkpoint.
func (l *Ledger) Checkpoint(ctx context.Context) (*Checkpoint, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	if l.opts.CheckpointKey == nil {
		return nil, fmt.Errorf("consent: checkpoint: %w: no checkpoint key", ErrBadCheckpoint)
	}
	var leaves []CheckpointLeaf
	for i := range l.shards {
		if i%16 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sh := &l.shards[i]
		sh.mu.RLock()
		for subject, hs := range sh.states {
			if h := hs.full.known(); h != nil && h.seq > 0 {
				leaves = append(leaves, CheckpointLeaf{Subject: subject, Length: h.seq, Head: h.hash})
			}
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(leaves, func(a, b CheckpointLeaf) int { return cmp.Compare(a.Subject, b.Subject) })
	c := &Checkpoint{Origin: l.opts.CheckpointName, Leaves: leaves}
	c.Root = treeHash(c.hashes())
	c.note = signNote(c.body(), l.opts.CheckpointName, l.opts.CheckpointKey)
	return c, nil
}

func (c *Checkpoint) hashes() [][32]byte {
	hs := make([][32]byte, len(c.Leaves))
	for i := range c.Leaves {
		hs[i] = c.Leaves[i].Hash()
	}
	return hs
}

// body is the checkpoint body of C2SP tlog-checkpoint: origin, tree size,
// root hash in base64, each on a line.
func (c *Checkpoint) body() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, len(c.Leaves), base64.StdEncoding.EncodeToString(c.Root[:]))
}

// Note returns the signed note of the checkpoint: its origin, size and
// root, signed. This is what a third party verifies (with any signed-note
// implementation and [CheckpointVerifierKey]) and checks inclusion proofs
// against.
func (c *Checkpoint) Note() []byte { return bytes.Clone(c.note) }

// MarshalText returns the checkpoint's text: the signed note, then one line
// per leaf, "leaf <length> <head> <subject>", head and subject in base64.
func (c *Checkpoint) MarshalText() ([]byte, error) {
	if c.note == nil {
		return nil, fmt.Errorf("consent: checkpoint: %w: not signed", ErrBadCheckpoint)
	}
	b := bytes.Clone(c.note)
	for _, lf := range c.Leaves {
		b = fmt.Appendf(b, "leaf %d %s %s\n", lf.Length, base64.StdEncoding.EncodeToString(lf.Head[:]),
			base64.StdEncoding.EncodeToString([]byte(lf.Subject)))
	}
	return b, nil
}

// ParseCheckpoint parses the text of a checkpoint and verifies it: signed
// by the key name/pub, leaves sorted and unique, and hashing to the root.
// Any fault is an error wrapping [ErrBadCheckpoint]. It never panics.
func ParseCheckpoint(text []byte, name string, pub ed25519.PublicKey) (*Checkpoint, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("consent: parse checkpoint: %w: "+format, append([]any{ErrBadCheckpoint}, args...)...)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, bad("public key of %d bytes", len(pub))
	}
	// The note ends with its signature lines; leaf lines follow.
	end := bytes.Index(text, []byte("\n\n"))
	if end < 0 {
		return nil, bad("no signature block")
	}
	end += 2
	for end < len(text) && bytes.HasPrefix(text[end:], []byte(sigPrefix)) {
		nl := bytes.IndexByte(text[end:], '\n')
		if nl < 0 {
			return nil, bad("unterminated signature line")
		}
		end += nl + 1
	}
	note, rest := text[:end], text[end:]
	body, err := openNote(note, name, pub)
	if err != nil {
		return nil, bad("%w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) < 3 {
		return nil, bad("body of %d lines", len(lines))
	}
	c := &Checkpoint{Origin: lines[0], note: bytes.Clone(note)}
	if c.Origin != name {
		return nil, bad("origin %s is not the key name", quote.String(c.Origin))
	}
	size, err := strconv.ParseUint(lines[1], 10, 63)
	if err != nil || lines[1] != strconv.FormatUint(size, 10) {
		return nil, bad("size %s", quote.String(lines[1]))
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return nil, bad("root hash")
	}
	copy(c.Root[:], root)
	if uint64(bytes.Count(rest, []byte("\n"))) != size || (len(rest) > 0 && rest[len(rest)-1] != '\n') {
		return nil, bad("%d leaf lines for a tree of %d", bytes.Count(rest, []byte("\n")), size)
	}
	c.Leaves = make([]CheckpointLeaf, 0, size)
	for i := range size {
		nl := bytes.IndexByte(rest, '\n')
		lf, err := parseLeaf(string(rest[:nl]))
		if err != nil {
			return nil, bad("leaf %d: %w", i, err)
		}
		if i > 0 && c.Leaves[i-1].Subject >= lf.Subject {
			return nil, bad("leaf %d out of order", i)
		}
		c.Leaves = append(c.Leaves, lf)
		rest = rest[nl+1:]
	}
	if treeHash(c.hashes()) != c.Root {
		return nil, bad("leaves do not hash to the root")
	}
	return c, nil
}

func parseLeaf(line string) (CheckpointLeaf, error) {
	var lf CheckpointLeaf
	f := strings.Split(line, " ")
	if len(f) != 4 || f[0] != "leaf" {
		return lf, errors.New("not a leaf line")
	}
	n, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil || n == 0 || f[1] != strconv.FormatUint(n, 10) {
		return lf, errors.New("bad length")
	}
	h, err := base64.StdEncoding.DecodeString(f[2])
	if err != nil || len(h) != 32 {
		return lf, errors.New("bad head")
	}
	s, err := base64.StdEncoding.DecodeString(f[3])
	if err != nil || base64.StdEncoding.EncodeToString(s) != f[3] {
		return lf, errors.New("bad subject")
	}
	lf.Subject, lf.Length = personaldata.SubjectID(s), n
	copy(lf.Head[:], h)
	if err := lf.Subject.Validate(); err != nil {
		return lf, err
	}
	return lf, nil
}

// InclusionProof returns the index of subject's leaf and its audit path,
// which [VerifyInclusion] checks against the checkpoint's note alone. A
// subject not in the checkpoint is an error wrapping [ErrNotFound].
func (c *Checkpoint) InclusionProof(subject personaldata.SubjectID) (CheckpointLeaf, uint64, [][32]byte, error) {
	i, ok := slices.BinarySearchFunc(c.Leaves, subject, func(lf CheckpointLeaf, s personaldata.SubjectID) int {
		return cmp.Compare(lf.Subject, s)
	})
	if !ok {
		return CheckpointLeaf{}, 0, nil, fmt.Errorf("consent: inclusion proof: %w: subject %s", ErrNotFound, quote.String(string(subject)))
	}
	return c.Leaves[i], uint64(i), inclusionPath(i, c.hashes()), nil
}

// VerifyInclusion checks that leaf is at index in the checkpoint whose
// signed note is note, signed by the key name/pub: it verifies the
// signature, reads the size and root from the note, and hashes leaf with
// path up to the root. It needs no other leaf.
func VerifyInclusion(note []byte, name string, pub ed25519.PublicKey, leaf CheckpointLeaf, index uint64, path [][32]byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("consent: verify inclusion: %w: bad public key", ErrBadCheckpoint)
	}
	body, err := openNote(note, name, pub)
	if err != nil {
		return fmt.Errorf("consent: verify inclusion: %w: %w", ErrBadCheckpoint, err)
	}
	lines := strings.Split(string(body), "\n")
	if len(lines) < 4 || lines[0] != name {
		return fmt.Errorf("consent: verify inclusion: %w: bad body", ErrBadCheckpoint)
	}
	size, err1 := strconv.ParseUint(lines[1], 10, 63)
	root, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err1 != nil || err2 != nil || len(root) != 32 {
		return fmt.Errorf("consent: verify inclusion: %w: bad body", ErrBadCheckpoint)
	}
	if err := verifyPath(index, size, leaf.Hash(), path, [32]byte(root)); err != nil {
		return fmt.Errorf("consent: verify inclusion: %w: %w", ErrBadCheckpoint, err)
	}
	return nil
}

// VerifyConsistency proves that newer extends older: every subject of
// older is in newer with a chain at least as long, and the stored chain of
// each, verified, passes through older's head and then newer's. A subject
// dropped, shortened or rewritten between the two is reported as a
// [*ChainError] wrapping [ErrTampered]; checkpoints that are not both
// signed by this ledger's key wrap [ErrBadCheckpoint].
func (l *Ledger) VerifyConsistency(ctx context.Context, older, newer *Checkpoint) error {
	if l.closed.Load() {
		return ErrClosed
	}
	for _, c := range []*Checkpoint{older, newer} {
		if err := l.checkSigned(c); err != nil {
			return fmt.Errorf("consent: verify consistency: %w", err)
		}
	}
	j := 0
	for _, o := range older.Leaves {
		for j < len(newer.Leaves) && newer.Leaves[j].Subject < o.Subject {
			j++
		}
		if j == len(newer.Leaves) || newer.Leaves[j].Subject != o.Subject || newer.Leaves[j].Length < o.Length {
			return &ChainError{Subject: o.Subject, Index: 0, Problem: ChainTruncated, Err: ErrTampered,
				Detail: fmt.Sprintf("the newer checkpoint does not hold the %d events of the older", o.Length)}
		}
		n := newer.Leaves[j]
		recs, err := l.store.Events(ctx, o.Subject)
		if err != nil {
			return fmt.Errorf("consent: verify consistency: %w", err)
		}
		if uint64(len(recs)) < n.Length {
			return &ChainError{Subject: o.Subject, Index: len(recs), Problem: ChainTruncated, Err: ErrTampered,
				Detail: fmt.Sprintf("the store holds %d events, the newer checkpoint %d", len(recs), n.Length)}
		}
		if _, cerr := l.verifyChain(o.Subject, recs[:o.Length], &head{seq: o.Length, hash: o.Head}); cerr != nil {
			return cerr
		}
		if _, cerr := l.verifyChain(o.Subject, recs[:n.Length], &head{seq: n.Length, hash: n.Head}); cerr != nil {
			return cerr
		}
	}
	return nil
}

// checkSigned reports whether c is signed by this ledger's checkpoint key
// and its note commits to its leaves.
func (l *Ledger) checkSigned(c *Checkpoint) error {
	if l.opts.CheckpointKey == nil {
		return fmt.Errorf("%w: no checkpoint key", ErrBadCheckpoint)
	}
	body, err := openNote(c.note, l.opts.CheckpointName, l.opts.CheckpointKey.Public().(ed25519.PublicKey))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	if c.Origin != l.opts.CheckpointName || !bytes.Equal(body, c.body()) || treeHash(c.hashes()) != c.Root {
		return fmt.Errorf("%w: the note does not match the leaves", ErrBadCheckpoint)
	}
	return nil
}

// anchors parses Options.Checkpoint into the heads each subject's chain
// must pass through.
func (l *Ledger) anchors() (map[personaldata.SubjectID]head, error) {
	if l.opts.Checkpoint == nil {
		return nil, nil
	}
	if l.opts.CheckpointKey == nil {
		return nil, fmt.Errorf("consent: New: %w: a checkpoint but no checkpoint key", ErrBadCheckpoint)
	}
	c, err := ParseCheckpoint(l.opts.Checkpoint, l.opts.CheckpointName, l.opts.CheckpointKey.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("consent: New: %w", err)
	}
	m := make(map[personaldata.SubjectID]head, len(c.Leaves))
	for _, lf := range c.Leaves {
		m[lf.Subject] = head{seq: lf.Length, hash: lf.Head}
	}
	return m, nil
}
