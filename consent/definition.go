package consent

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// MaxDefinitionLen bounds the encoding of a [StoredDefinition], and so the
// text a [Notice] may carry.
const MaxDefinitionLen = 1 << 20

// Stored encoding of definitions: JSON objects with the fields below,
// version 1. Times are RFC 3339 with nanoseconds in UTC, durations
// nanoseconds, hashes lower-case hex. Unknown fields are rejected.
type purposeJSON struct {
	V               int                     `json:"v"`
	ID              PurposeID               `json:"id"`
	Description     string                  `json:"description,omitempty"`
	Basis           personaldata.LegalBasis `json:"basis"`
	Default         Default                 `json:"default"`
	Recipient       string                  `json:"recipient,omitempty"`
	DirectMarketing bool                    `json:"directMarketing,omitempty"`
	Categories      []personaldata.Category `json:"categories,omitempty"`
	Sensitive       bool                    `json:"sensitive,omitempty"`
	Validity        time.Duration           `json:"validity,omitempty"`
	Since           time.Time               `json:"since"`
}

type noticeJSON struct {
	V            int         `json:"v"`
	Version      string      `json:"version"`
	URL          string      `json:"url,omitempty"`
	Language     string      `json:"language,omitempty"`
	Text         string      `json:"text,omitempty"`
	ContentHash  string      `json:"contentHash"`
	AnnouncedAt  time.Time   `json:"announcedAt"`
	EffectiveAt  time.Time   `json:"effectiveAt"`
	Purposes     []PurposeID `json:"purposes"`
	FreshConsent []PurposeID `json:"freshConsent,omitempty"`
}

var errDefinition = errors.New("malformed definition")

func encodePurpose(p *Purpose) (StoredDefinition, error) {
	b, err := json.Marshal(purposeJSON{
		V: 1, ID: p.ID, Description: p.Description, Basis: p.Basis, Default: p.Default,
		Recipient: p.Recipient, DirectMarketing: p.DirectMarketing, Categories: p.Categories,
		Sensitive: p.Sensitive, Validity: p.Validity, Since: p.Since,
	})
	if err != nil {
		return StoredDefinition{}, err
	}
	if len(b) > MaxDefinitionLen {
		return StoredDefinition{}, fmt.Errorf("%w: purpose %s: definition longer than %d bytes", ErrInvalidPurpose, quote.String(string(p.ID)), MaxDefinitionLen)
	}
	return StoredDefinition{Kind: DefinitionPurpose, ID: string(p.ID), Data: b}, nil
}

func encodeNotice(n *Notice) (StoredDefinition, error) {
	b, err := json.Marshal(noticeJSON{
		V: 1, Version: n.Version, URL: n.URL, Language: n.Language, Text: n.Text,
		ContentHash: hex.EncodeToString(n.ContentHash[:]), AnnouncedAt: n.AnnouncedAt,
		EffectiveAt: n.EffectiveAt, Purposes: n.Purposes, FreshConsent: n.FreshConsent,
	})
	if err != nil {
		return StoredDefinition{}, err
	}
	if len(b) > MaxDefinitionLen {
		return StoredDefinition{}, fmt.Errorf("%w: version %s: definition longer than %d bytes", ErrInvalidNotice, quote.String(n.Version), MaxDefinitionLen)
	}
	return StoredDefinition{Kind: DefinitionNotice, ID: n.Version, Data: b}, nil
}

func strictJSON(data []byte, v any) error {
	if len(data) > MaxDefinitionLen {
		return fmt.Errorf("%w: longer than %d bytes", errDefinition, MaxDefinitionLen)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", errDefinition, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", errDefinition)
	}
	return nil
}

// decodeDefinition parses a stored definition into a purpose or a notice.
// It never panics; validation is left to the registry.
func decodeDefinition(d StoredDefinition) (*Purpose, *Notice, error) {
	switch d.Kind {
	case DefinitionPurpose:
		var j purposeJSON
		if err := strictJSON(d.Data, &j); err != nil {
			return nil, nil, err
		}
		if j.V != 1 || string(j.ID) != d.ID {
			return nil, nil, fmt.Errorf("%w: version %d or ID does not match the row", errDefinition, j.V)
		}
		return &Purpose{
			ID: j.ID, Description: j.Description, Basis: j.Basis, Default: j.Default,
			Recipient: j.Recipient, DirectMarketing: j.DirectMarketing, Categories: j.Categories,
			Sensitive: j.Sensitive, Validity: j.Validity, Since: j.Since,
		}, nil, nil
	case DefinitionNotice:
		var j noticeJSON
		if err := strictJSON(d.Data, &j); err != nil {
			return nil, nil, err
		}
		if j.V != 1 || j.Version != d.ID {
			return nil, nil, fmt.Errorf("%w: version %d or ID does not match the row", errDefinition, j.V)
		}
		n := &Notice{
			Version: j.Version, URL: j.URL, Language: j.Language, Text: j.Text,
			AnnouncedAt: j.AnnouncedAt, EffectiveAt: j.EffectiveAt,
			Purposes: j.Purposes, FreshConsent: j.FreshConsent,
		}
		h, err := hex.DecodeString(j.ContentHash)
		if err != nil || len(h) != 32 {
			return nil, nil, fmt.Errorf("%w: content hash", errDefinition)
		}
		copy(n.ContentHash[:], h)
		return nil, n, nil
	}
	return nil, nil, fmt.Errorf("%w: unknown kind %s", errDefinition, quote.String(string(d.Kind)))
}
