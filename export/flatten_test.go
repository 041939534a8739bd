package export_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/export"
)

type Base struct {
	Created string `json:"created"`
}

type Line struct {
	SKU  string   `json:"sku"`
	Tags []string `json:"tags"`
}

type Shipping struct {
	City string `json:"city"`
}

// Order has one field of each kind the flattening rules name.
type Order struct {
	Base                             // promoted: "created"
	ID       int                     `json:"id"`
	Note     *string                 `json:"note"`
	Ship     *Shipping               `json:"ship"`
	Blob     []byte                  `json:"blob"`
	Score    float64                 `json:"score"`
	Basis    personaldata.LegalBasis `json:"basis"`
	Attrs    map[string]int          `json:"attrs"`
	Any      any                     `json:"any"`
	Lines    []Line                  `json:"lines/items"` // an odd name: escaped in the file name
	Skipped  string                  `json:"-"`
	internal string                  // unexported: skipped
}

func TestFlatteningRules(t *testing.T) {
	t.Parallel()
	note := "=2+2"
	src := export.NewMemorySource()
	src.Add(subject,
		Order{Base: Base{Created: "2026-01-01"}, ID: 1, Note: &note, Ship: &Shipping{City: "Utrecht"}, Blob: []byte{0, 1, 2},
			Score: 1.5, Basis: personaldata.Contract, Attrs: map[string]int{"b": 2, "a": 1}, Any: []any{"x", 1},
			Lines: []Line{{SKU: "A-1", Tags: []string{"red", "=bad"}}, {SKU: "+B"}}, Skipped: "x", internal: "y"},
		Order{ID: 2, Score: math.NaN(), Basis: personaldata.Consent, Any: "-1"},
	)
	e := plainExporter(t, nil)
	require.NoError(t, e.Register(cat("orders"), src))
	b, _ := writePackage(t, e, export.Request{Subject: subject})
	p := openPackage(t, b)

	assert.Equal(t, strings.Join([]string{
		`{"created":"2026-01-01","id":1,"note":"=2+2","ship":{"city":"Utrecht"},"blob":"AAEC","score":1.5,"basis":"contract","attrs":{"a":1,"b":2},"any":["x",1],"lines/items":[{"sku":"A-1","tags":["red","=bad"]},{"sku":"+B","tags":[]}]}`,
		`{"created":"","id":2,"note":null,"ship":null,"blob":null,"score":null,"basis":"consent","attrs":null,"any":"-1","lines/items":[]}`,
		``}, "\n"), string(p.files["data/orders/records.ndjson"]))

	assert.Equal(t, [][]string{
		{"_row", "created", "id", "note", "ship.city", "blob", "score", "basis", "attrs", "any"},
		{"1", "2026-01-01", "1", "'=2+2", "Utrecht", "AAEC", "1.5", "contract", `{"a":1,"b":2}`, `["x",1]`},
		{"2", "", "2", "", "", "", "", "consent", "", "'-1"},
	}, p.csvRows(t, "data/orders/records.csv"))

	assert.Equal(t, [][]string{
		{"_row", "_index", "sku", "tags"},
		{"1", "0", "A-1", `["red","=bad"]`},
		{"1", "1", "'+B", "[]"},
	}, p.csvRows(t, "data/orders/records.lines_2fitems.csv"))
}

// Team has personal data inside a map: erasure marks the whole map.
type Team struct {
	ID      string             `json:"id" pii:"subject"`
	Members map[string]Contact `json:"members"`
	Name    string             `json:"name"`
}

func TestErasedInsideMap(t *testing.T) {
	t.Parallel()
	p := newProtector(t)
	tm := &Team{ID: string(subject), Members: map[string]Contact{"a": {Kind: "work", Value: "x@example.nl"}}, Name: "Blue"}
	protect(t, p, tm)
	forgetDefaultScope(t, p, subject)
	src := export.NewMemorySource()
	src.Add(subject, tm)
	e := plainExporter(t, &export.Options{Revealer: p})
	require.NoError(t, e.Register(cat("teams"), src))
	b, _ := writePackage(t, e, export.Request{Subject: subject})
	pk := openPackage(t, b)
	assert.Equal(t, `{"id":"customer-1017","members":{"erased":true},"name":"Blue"}`+"\n", string(pk.files["data/teams/records.ndjson"]))
	assert.Equal(t, []string{"1", "customer-1017", export.ErasedCell, "Blue", "members"}, pk.csvRows(t, "data/teams/records.csv")[1])
}

// Wrapped writes itself with MarshalJSON; pii still protects its field.
type Wrapped struct {
	Secret string `json:"secret" pii:"note"`
}

func (w Wrapped) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]string{"s": w.Secret}) }

type Holder struct {
	ID  string  `json:"id" pii:"subject"`
	W   Wrapped `json:"w"`
	Tag string  `json:"tag"`
}

func TestErasedInsideMarshaler(t *testing.T) {
	t.Parallel()
	p := newProtector(t)
	h := &Holder{ID: string(subject), W: Wrapped{Secret: "s3cret"}, Tag: "t"}
	protect(t, p, h)
	src := export.NewMemorySource()
	src.Add(subject, h)
	e := plainExporter(t, &export.Options{Revealer: p})
	require.NoError(t, e.Register(cat("holders"), src))
	b, _ := writePackage(t, e, export.Request{Subject: subject})
	assert.Equal(t, `{"id":"customer-1017","w":{"s":"s3cret"},"tag":"t"}`+"\n", string(openPackage(t, b).files["data/holders/records.ndjson"]))

	forgetDefaultScope(t, p, subject)
	b, _ = writePackage(t, e, export.Request{Subject: subject})
	assert.Equal(t, `{"id":"customer-1017","w":{"erased":true},"tag":"t"}`+"\n", string(openPackage(t, b).files["data/holders/records.ndjson"]))
}
