package retention_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/retention"
)

// A typo in a policy file must never turn a retention period into "delete
// now": a missing or null period, a repeated key and a key in another case
// (which encoding/json would match) are each rejected, naming the rule and
// the key.
func TestParsePolicyRejectsAmbiguousKeys(t *testing.T) {
	t.Parallel()
	const ok = `{"id":"ok","trigger":"collected","period":"P1Y","action":"delete","basis":"consent"}`
	for _, tc := range []struct {
		name, rule string
		key        string // the key the error must name
	}{
		{"missing period", `{"id":"invoices","trigger":"collected","action":"delete","basis":"consent"}`, `"period"`},
		{"null period", `{"id":"invoices","trigger":"collected","period":null,"action":"delete","basis":"consent"}`, `"period"`},
		{"duplicate period", `{"id":"invoices","trigger":"collected","period":"P7Y","period":"P0D","action":"delete","basis":"consent"}`, `"period"`},
		{"period in another case", `{"id":"invoices","trigger":"collected","period":"P7Y","Period":"P0D","action":"delete","basis":"consent"}`, `"Period"`},
		{"only a period in another case", `{"id":"invoices","trigger":"collected","PERIOD":"P7Y","action":"delete","basis":"consent"}`, `"PERIOD"`},
		{"case folded by Unicode", `{"id":"invoices","trigger":"collected","period":"P7Y","action":"delete","basis":"consent","ſummary":"x"}`, `"ſummary"`},
		{"escaped duplicate", `{"id":"invoices","trigger":"collected","period":"P7Y","p\u0065riod":"P0D","action":"delete","basis":"consent"}`, `"period"`},
		{"duplicate after the id", `{"trigger":"collected","period":"P7Y","action":"delete","basis":"consent","id":"invoices","action":"review"}`, `"action"`},
		{"null retain", `{"id":"invoices","trigger":"collected","period":"P7Y","action":"delete","basis":"consent","retain":null}`, `"retain"`},
		{"missing trigger", `{"id":"invoices","period":"P7Y","action":"delete","basis":"consent"}`, `"trigger"`},
		{"unknown key", `{"id":"invoices","trigger":"collected","period":"P7Y","action":"delete","basis":"consent","keep":true}`, `"keep"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := retention.ParsePolicy([]byte(`{"rules":[` + ok + `,` + tc.rule + `]}`))
			require.Error(t, err)
			assert.ErrorIs(t, err, retention.ErrInvalidRule)
			var re *retention.RuleError
			require.True(t, errors.As(err, &re), "%v is a *RuleError", err)
			assert.Equal(t, "invoices", re.RuleID)
			assert.Equal(t, 1, re.Index)
			assert.Contains(t, err.Error(), `rule "invoices" (#1)`)
			assert.Contains(t, err.Error(), "key "+tc.key)
		})
	}
}

func TestParsePolicyRejectsAmbiguousTopLevelKeys(t *testing.T) {
	t.Parallel()
	const rule = `{"id":"a","trigger":"collected","period":"P1Y","action":"delete","basis":"consent"}`
	for _, tc := range []struct{ name, in, key string }{
		{"duplicate rules", `{"rules":[` + rule + `],"rules":[]}`, `"rules"`},
		{"rules in another case", `{"rules":[` + rule + `],"Rules":[]}`, `"Rules"`},
		{"duplicate name", `{"name":"a","name":"b","rules":[` + rule + `]}`, `"name"`},
		{"fiscal year end in another case", `{"Fiscal_Year_End":"06-30","rules":[` + rule + `]}`, `"Fiscal_Year_End"`},
		{"unknown key", `{"rules":[` + rule + `],"extra":1}`, `"extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := retention.ParsePolicy([]byte(tc.in))
			require.ErrorIs(t, err, retention.ErrInvalidPolicy)
			assert.Contains(t, err.Error(), "key "+tc.key)
		})
	}
}

// Keys are checked before anything else, wherever they are.
func TestParsePolicyDuplicateKeysAnywhere(t *testing.T) {
	t.Parallel()
	_, err := retention.ParsePolicy([]byte(`{"rules":[{"id":"a","trigger":"collected","period":"P1Y","action":"delete","basis":"consent","summary":{"x":1,"x":2}}]}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `key "x"`)
	assert.False(t, strings.Contains(err.Error(), "P1Y"))
}
