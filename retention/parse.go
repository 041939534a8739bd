package retention

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/personaldata/personaldata/internal/quote"
)

// maxPolicyBytes bounds the JSON ParsePolicy reads.
const maxPolicyBytes = 1 << 20

// The keys of the JSON form, in the case they must be written in.
var (
	policyKeys   = []string{"name", "fiscal_year_end", "rules"}
	ruleKeys     = []string{"id", "category", "kind", "trigger", "event", "period", "action", "retain", "basis", "citation", "summary"}
	requiredKeys = []string{"id", "trigger", "period", "action", "basis"}
)

// ParsePolicy parses a policy from its JSON form (see [PolicySpec]) and
// validates it.
//
// Decoding is strict, because a typo must never shorten a retention
// period: a policy whose JSON has a key twice in any object, a key in
// another case than documented (which encoding/json would accept), an
// unknown key, trailing data or more than 1 MiB is rejected. So is a rule
// without one of "id", "trigger", "period", "action" and "basis", or with
// a null value: a missing period is not the zero period. Problems of a rule
// are reported as a [*RuleError] (wrapping [ErrInvalidRule] and naming the
// key); others wrap [ErrInvalidPolicy].
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > maxPolicyBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidPolicy, maxPolicyBytes)
	}
	if err := checkKeys(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var spec PolicySpec
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the policy object", ErrInvalidPolicy)
	}
	return NewPolicy(spec)
}

// checkKeys walks the JSON document and rejects what encoding/json would
// silently accept: repeated keys (the last wins), keys in another case
// (matched case-insensitively), and missing or null rule fields (left
// zero). Syntax errors are left to the decoder, which reports them the
// same way.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: not a JSON object", ErrInvalidPolicy)
	}
	seen := map[string]bool{}
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return err
		}
		if problem := checkKey(key, policyKeys, seen); problem != "" {
			return fmt.Errorf("%w: %s", ErrInvalidPolicy, problem)
		}
		if key == "rules" {
			err = checkRules(dec)
		} else {
			err = skipValue(dec)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkRules checks the value of "rules": each object in the array.
func checkRules(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if tok != json.Delim('[') {
		return skipRest(dec, tok)
	}
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
		if tok != json.Delim('{') {
			if err := skipRest(dec, tok); err != nil {
				return err
			}
			continue
		}
		if err := checkRule(dec, i); err != nil {
			return err
		}
	}
	_, err = dec.Token() // ']'
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return nil
}

// checkRule checks the keys of rule #index, whose '{' has been read. It
// reads the whole object, so that the error names the rule by its ID even
// when the problem comes first.
func checkRule(dec *json.Decoder, index int) error {
	var (
		seen    = map[string]bool{}
		id      string
		problem error
	)
	for dec.More() {
		key, err := nextKey(dec)
		if err != nil {
			return err
		}
		if p := checkKey(key, ruleKeys, seen); p != "" && problem == nil {
			problem = fmt.Errorf("%w: %s", ErrInvalidRule, p)
		}
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
		switch v := tok.(type) {
		case nil:
			if problem == nil {
				problem = fmt.Errorf("%w: key %s is null", ErrInvalidRule, quote.String(key))
			}
		case string:
			if key == "id" && id == "" {
				id = v
			}
		default:
			if err := skipRest(dec, tok); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if problem == nil {
		for _, k := range requiredKeys {
			if !seen[k] {
				problem = fmt.Errorf("%w: key %s is missing", ErrInvalidRule, quote.String(k))
				break
			}
		}
	}
	if problem != nil {
		return &RuleError{RuleID: id, Index: index, Err: problem}
	}
	return nil
}

// checkKey describes what is wrong with key, an object key of the JSON
// form whose documented keys are known: repeated, in another case, or
// unknown. It returns "" if nothing is, and adds key to seen.
func checkKey(key string, known []string, seen map[string]bool) string {
	if !firstTime(key, seen) {
		return "key " + quote.String(key) + " appears twice"
	}
	for _, k := range known {
		if k == key {
			return ""
		}
		if strings.EqualFold(k, key) {
			return "key " + quote.String(key) + " must be written " + quote.String(k)
		}
	}
	return "unknown key " + quote.String(key)
}

// firstTime reports whether no key equal to key under encoding/json's
// case-insensitive matching is in seen, and adds it.
func firstTime(key string, seen map[string]bool) bool {
	// Upper then lower case folds what encoding/json folds, such as
	// "ſ" (long s) with "s" and the Kelvin sign with "k".
	f := strings.ToLower(strings.ToUpper(key))
	if seen[f] {
		return false
	}
	seen[f] = true
	return true
}

// nextKey reads an object key.
func nextKey(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%w: malformed object", ErrInvalidPolicy)
	}
	return key, nil
}

// skipValue reads one value, checking every object in it for repeated
// keys.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return skipRest(dec, tok)
}

// skipRest reads the rest of the value that begins with tok.
func skipRest(dec *json.Decoder, tok json.Token) error {
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			key, err := nextKey(dec)
			if err != nil {
				return err
			}
			if !firstTime(key, seen) {
				return fmt.Errorf("%w: key %s appears twice", ErrInvalidPolicy, quote.String(key))
			}
			if err := skipValue(dec); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for dec.More() {
			if err := skipValue(dec); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	return nil
}
