// Package tags parses the pii struct tag. It knows the grammar only; package
// pii decides which Go types a tag may sit on.
package tags

import (
	"errors"
	"fmt"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// Kind says what a tag marks.
type Kind int

// Kinds of tag.
const (
	Ignore  Kind = iota + 1 // pii:"-"
	Subject                 // pii:"subject"
	Data                    // pii:"<category>[,options]"
)

// Tag is a parsed pii tag.
type Tag struct {
	Kind      Kind
	Category  personaldata.Category
	Scope     personaldata.Scope
	Redact    string // replacement when erased; "" means the zero value
	HasRedact bool
	Subject   string // name of the sibling field that holds this field's subject
	Index     string // name of the sibling field that receives the blind index
	Normalize string // normaliser of the blind index: "", "email", "phone", "lower"
}

// Errors. The messages quote only the tag, never a field's value.
var (
	ErrEmpty         = errors.New("empty tag")
	ErrUnknownOption = errors.New("unknown option")
	ErrDuplicate     = errors.New("duplicate option")
	ErrBadValue      = errors.New("bad option value")
	ErrNearMiss      = errors.New("category looks like a misspelling")
)

// Normalizers lists the values the normalize option takes.
var Normalizers = []string{"email", "phone", "lower", "none"}

var options = []string{"scope", "redact", "subject", "index", "normalize"}

// WellKnown lists categories that a near-miss check guards: a tag whose
// category is one edit away from one of these (but not equal) is an error.
var WellKnown = []string{
	"email", "name", "phone", "address", "birthdate", "ip-address", "billing",
	"payment", "national-id", "location", "gender", "health", "username",
	"password", "iban", "message", "contact", "photo", "signature",
}

// Parse parses the value of a pii struct tag.
func Parse(s string) (Tag, error) {
	switch s {
	case "":
		return Tag{}, ErrEmpty
	case "-":
		return Tag{Kind: Ignore}, nil
	case "subject":
		return Tag{Kind: Subject}, nil
	}
	name, rest, hasOpts := strings.Cut(s, ",")
	if hasOpts && (rest == "" || strings.HasSuffix(rest, ",")) {
		return Tag{}, fmt.Errorf("%w: empty option", ErrUnknownOption)
	}
	if name == "subject" || name == "-" {
		return Tag{}, fmt.Errorf("%w: %s takes no options", ErrBadValue, quote.String(name))
	}
	cat := personaldata.Category(name)
	if err := cat.Validate(); err != nil {
		return Tag{}, err
	}
	if near := nearMiss(name); near != "" {
		return Tag{}, fmt.Errorf("%w: %s (did you mean %q?)", ErrNearMiss, quote.String(name), near)
	}
	t := Tag{Kind: Data, Category: cat}
	seen := map[string]bool{}
	for rest != "" {
		var opt string
		opt, rest, _ = strings.Cut(rest, ",")
		key, val, hasVal := strings.Cut(opt, "=")
		if !known(key) {
			if sug := suggest(key); sug != "" {
				return Tag{}, fmt.Errorf("%w %s (did you mean %q?)", ErrUnknownOption, quote.String(key), sug)
			}
			return Tag{}, fmt.Errorf("%w %s", ErrUnknownOption, quote.String(key))
		}
		if seen[key] {
			return Tag{}, fmt.Errorf("%w %s", ErrDuplicate, quote.String(key))
		}
		seen[key] = true
		if !hasVal {
			return Tag{}, fmt.Errorf("%w: %s needs a value (%s=...)", ErrBadValue, key, key)
		}
		switch key {
		case "scope":
			sc := personaldata.Scope(val)
			if val == "" {
				return Tag{}, fmt.Errorf("%w: empty scope", ErrBadValue)
			}
			if err := sc.Validate(); err != nil {
				return Tag{}, err
			}
			t.Scope = sc
		case "redact":
			t.Redact, t.HasRedact = val, true
		case "subject", "index":
			if !isIdent(val) {
				return Tag{}, fmt.Errorf("%w: %s=%s is not an exported field name", ErrBadValue, key, quote.String(val))
			}
			if key == "subject" {
				t.Subject = val
			} else {
				t.Index = val
			}
		case "normalize":
			ok := false
			for _, n := range Normalizers {
				ok = ok || n == val
			}
			if !ok {
				return Tag{}, fmt.Errorf("%w: normalize=%s (want one of %s)", ErrBadValue, quote.String(val), strings.Join(Normalizers, ", "))
			}
			if val == "none" {
				val = ""
			}
			t.Normalize = val
		}
	}
	if seen["normalize"] && t.Index == "" {
		return Tag{}, fmt.Errorf("%w: normalize without index", ErrBadValue)
	}
	return t, nil
}

func known(key string) bool {
	for _, o := range options {
		if o == key {
			return true
		}
	}
	return false
}

func suggest(key string) string {
	k := strings.ToLower(key)
	if k == "normalise" {
		return "normalize"
	}
	for _, o := range options {
		if k == o || distance(k, o) <= 2 {
			return o
		}
	}
	return ""
}

func nearMiss(cat string) string {
	if len(cat) < 4 {
		return ""
	}
	for _, w := range WellKnown {
		if cat != w && distance(cat, w) == 1 {
			return w
		}
	}
	return ""
}

func isIdent(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// distance is the optimal string alignment distance (Levenshtein with
// adjacent transpositions) between two short ASCII strings.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
