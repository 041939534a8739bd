package consent

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/internal/quote"
)

// ReceiptVersion is the Kantara Consent Receipt specification version that
// receipts follow.
const ReceiptVersion = "KI-CR-v1.1.0"

// ReceiptOptions describe the controller in consent receipts. Like the
// other receipt types it is a plain value, safe to share once built.
type ReceiptOptions struct {
	Jurisdiction string // such as "NL"
	Language     string // default: the notice's language
	Controllers  []ReceiptController
	Service      string // name of the service the purposes belong to
	// Termination describes how consent ends, such as "withdraw at any
	// time with the unsubscribe link in every mailing".
	Termination string
	PublicKey   string // optional, for receipts the host signs
}

// ReceiptController is a PII controller of a consent receipt.
type ReceiptController struct {
	Name     string         `json:"piiController"`
	OnBehalf bool           `json:"onBehalf"`
	Contact  string         `json:"contact"`
	Address  ReceiptAddress `json:"address"`
	Email    string         `json:"email"`
	Phone    string         `json:"phone"`
	URL      string         `json:"piiControllerUrl,omitempty"`
}

// ReceiptAddress is a postal address of a controller.
type ReceiptAddress struct {
	StreetAddress   string `json:"streetAddress,omitempty"`
	PostalCode      string `json:"postalCode,omitempty"`
	AddressLocality string `json:"addressLocality,omitempty"`
	AddressCountry  string `json:"addressCountry,omitempty"`
}

// A Receipt is a consent receipt for a grant, with the fields of the Kantara
// Consent Receipt specification v1.1, which ISO/IEC TS 27560 builds on, as
// JSON. It holds the subject ID but no other personal data. It is a plain
// value, safe to share.
type Receipt struct {
	Version          string              `json:"version"`
	Jurisdiction     string              `json:"jurisdiction"`
	ConsentTimestamp int64               `json:"consentTimestamp"` // seconds since 1970
	CollectionMethod string              `json:"collectionMethod"`
	ConsentReceiptID string              `json:"consentReceiptID"`
	PublicKey        string              `json:"publicKey,omitempty"`
	Language         string              `json:"language"`
	PIIPrincipalID   string              `json:"piiPrincipalId"`
	PIIControllers   []ReceiptController `json:"piiControllers"`
	PolicyURL        string              `json:"policyUrl"`
	Services         []ReceiptService    `json:"services"`
	Sensitive        bool                `json:"sensitive"`
	SPICat           []string            `json:"spiCat"`
	// Extensions: the notice version and the chain hash of the grant, which
	// tie the receipt to the ledger.
	NoticeVersion string `json:"noticeVersion,omitempty"`
	EventHash     string `json:"eventHash"`
}

// ReceiptService is a service of a receipt with its purposes.
type ReceiptService struct {
	Service  string           `json:"service"`
	Purposes []ReceiptPurpose `json:"purposes"`
}

// ReceiptPurpose is a purpose of a receipt.
type ReceiptPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
	ThirdPartyName       string   `json:"thirdPartyName,omitempty"`
}

var collectionMethods = [...]string{
	MethodForm: "web form", MethodEmailLink: "e-mail link", MethodAPI: "api",
	MethodImport: "import", MethodPrivacySignal: "browser privacy signal", MethodAdministrator: "administrator",
}

// Receipt returns the consent receipt of the grant eventID of subject. It
// reads and verifies the subject's chain; an event that is not in it, or is
// not a grant, is [ErrNotFound].
func (l *Ledger) Receipt(ctx context.Context, subject personaldata.SubjectID, eventID ulid.ULID) (*Receipt, error) {
	evs, err := l.History(ctx, subject)
	if err != nil {
		return nil, fmt.Errorf("consent: receipt: %w", err)
	}
	var ev *Event
	for i := range evs {
		if evs[i].ID == eventID {
			ev = &evs[i]
		}
	}
	if ev == nil {
		return nil, fmt.Errorf("consent: receipt: %w: event %s of subject %s", ErrNotFound, eventID, quote.String(string(subject)))
	}
	if ev.Type != EventGrant {
		return nil, fmt.Errorf("consent: receipt: %w: event %s is a %s, not a grant", ErrNotFound, eventID, ev.Type)
	}
	reg := l.reg.Load()
	ro := &l.opts.Receipts
	r := &Receipt{
		Version:          ReceiptVersion,
		Jurisdiction:     ro.Jurisdiction,
		ConsentTimestamp: ev.EffectiveAt.Unix(),
		CollectionMethod: collectionMethods[ev.Method],
		ConsentReceiptID: ev.ID.String(),
		PublicKey:        ro.PublicKey,
		Language:         ro.Language,
		PIIPrincipalID:   string(subject),
		PIIControllers:   append([]ReceiptController{}, ro.Controllers...),
		SPICat:           []string{},
		NoticeVersion:    ev.NoticeVersion,
		EventHash:        hex.EncodeToString(ev.Hash[:]),
	}
	if n := reg.byVer[ev.NoticeVersion]; n != nil {
		r.PolicyURL = n.URL
		if r.Language == "" {
			r.Language = n.Language
		}
	}
	rp := ReceiptPurpose{Purpose: string(ev.Purpose), PurposeCategory: []string{}, PIICategory: []string{}, ConsentType: "EXPLICIT", PrimaryPurpose: true}
	if p := reg.purposes[ev.Purpose]; p != nil {
		if p.Description != "" {
			rp.Purpose = p.Description
		}
		rp.PurposeCategory = append(rp.PurposeCategory, string(p.ID))
		if p.DirectMarketing {
			rp.PurposeCategory = append(rp.PurposeCategory, "marketing")
		}
		for _, c := range p.Categories {
			rp.PIICategory = append(rp.PIICategory, string(c))
			if p.Sensitive {
				r.SPICat = append(r.SPICat, string(c))
			}
		}
		r.Sensitive = p.Sensitive
		rp.ThirdPartyDisclosure = p.Recipient != ""
		rp.ThirdPartyName = p.Recipient
	}
	rp.Termination = ro.Termination
	if !ev.ExpiresAt.IsZero() {
		exp := "expires " + ev.ExpiresAt.Format(time.RFC3339)
		if rp.Termination == "" {
			rp.Termination = exp
		} else {
			rp.Termination = exp + "; " + rp.Termination
		}
	}
	if rp.Termination == "" {
		rp.Termination = "withdraw at any time"
	}
	r.Services = []ReceiptService{{Service: ro.Service, Purposes: []ReceiptPurpose{rp}}}
	return r, nil
}
