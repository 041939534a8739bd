package tags

import (
	"errors"
	"testing"

	"github.com/personaldata/personaldata"
)

func TestParse(t *testing.T) {
	tests := []struct {
		tag  string
		want Tag
		err  error
	}{
		{"-", Tag{Kind: Ignore}, nil},
		{"subject", Tag{Kind: Subject}, nil},
		{"email", Tag{Kind: Data, Category: "email"}, nil},
		{"billing,scope=fiscal", Tag{Kind: Data, Category: "billing", Scope: "fiscal"}, nil},
		{"name,redact=[erased]", Tag{Kind: Data, Category: "name", Redact: "[erased]", HasRedact: true}, nil},
		{"name,redact=", Tag{Kind: Data, Category: "name", HasRedact: true}, nil},
		{"email,subject=RecipientID,index=EmailIndex,normalize=email",
			Tag{Kind: Data, Category: "email", Subject: "RecipientID", Index: "EmailIndex", Normalize: "email"}, nil},
		{"", Tag{}, ErrEmpty},
		{"emial", Tag{}, ErrNearMiss},
		{"email,redcat=x", Tag{}, ErrUnknownOption},
		{"email,scope=a,scope=b", Tag{}, ErrDuplicate},
		{"email,scope", Tag{}, ErrBadValue},
		{"email,scope=", Tag{}, ErrBadValue},
		{"email,scope=Fiscal", Tag{}, personaldata.ErrInvalidCategory},
		{"Email", Tag{}, personaldata.ErrInvalidCategory},
		{"email,subject=lower", Tag{}, ErrBadValue},
		{"email,index=Idx,normalize=emails", Tag{}, ErrBadValue},
		{"email,normalize=email", Tag{}, ErrBadValue},
		{"email,normalise=email", Tag{}, ErrUnknownOption},
		{"subject,scope=x", Tag{}, ErrBadValue},
		{"email,", Tag{}, ErrUnknownOption},
		{"email,,scope=x", Tag{}, ErrUnknownOption},
		{"email,scope=x,", Tag{}, ErrUnknownOption},
	}
	for _, tt := range tests {
		got, err := Parse(tt.tag)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Parse(%q) error %v, want %v", tt.tag, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.tag, got, err, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"email", "emial", 1}, {"email", "email", 0}, {"redact", "redcat", 1}, {"abc", "", 3}, {"phone", "phones", 1}} {
		if got := distance(c.a, c.b); got != c.d {
			t.Errorf("distance(%q,%q)=%d want %d", c.a, c.b, got, c.d)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"email", "billing,scope=fiscal,redact=x", "-", "subject", "a,index=B,normalize=phone", "emial,redcat=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag, err := Parse(s)
		if err == nil && tag.Kind == Data {
			if tag.Category.Validate() != nil || tag.Scope.Validate() != nil {
				t.Fatalf("accepted invalid names in %q", s)
			}
		}
	})
}
