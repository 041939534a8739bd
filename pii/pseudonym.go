package pii

import (
	"encoding/base32"
	"strings"

	"github.com/personaldata/personaldata"
)

// Pseudonymizer replaces identifiers with stable keyed pseudonyms, for
// statistics and analytics that must not reveal who is who: the same input
// always gives the same pseudonym under one key, and without the key a
// pseudonym cannot be traced back or recomputed from a guess. Destroying
// the key turns pseudonymous data into anonymous data.
//
// Pseudonyms are not encryption: they cannot be reversed, even with the
// key. It is safe for concurrent use.
type Pseudonymizer struct {
	ix *Indexer
}

// NewPseudonymizer returns a Pseudonymizer keyed by key (32 bytes). Use a
// key of its own, not the index key: a pseudonym must not match an index.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	ix, err := NewIndexer(key)
	if err != nil {
		return nil, err
	}
	return &Pseudonymizer{ix: ix}, nil
}

// String names the type without revealing the key.
func (ps *Pseudonymizer) String() string { return "pii.Pseudonymizer" }

var pseudoEnc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Pseudonym returns the pseudonym of value in domain (a category such as
// "email", or a study such as "stats-2026"): 26 lower-case base32
// characters (128 bits). Different domains give unrelated pseudonyms.
func (ps *Pseudonymizer) Pseudonym(domain personaldata.Category, value string) string {
	sum := ps.ix.sum("personaldata/pseudonym/1", domain, value)
	return strings.ToLower(pseudoEnc.EncodeToString(sum[:16]))
}
