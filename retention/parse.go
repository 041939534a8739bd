package retention

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// maxPolicyBytes bounds the JSON ParsePolicy reads.
const maxPolicyBytes = 1 << 20

// ParsePolicy parses a policy from its JSON form (see [PolicySpec]) and
// validates it. Decoding is strict: unknown fields, trailing data and more
// than 1 MiB of input are errors wrapping [ErrInvalidPolicy].
func ParsePolicy(data []byte) (*Policy, error) {
	if len(data) > maxPolicyBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidPolicy, maxPolicyBytes)
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
