package retention

import (
	"fmt"

	"github.com/personaldata/personaldata/internal/quote"
)

// Action is what happens to data: a rule's action when its period is over,
// and the verdict of a [Decision]. Keep is only a verdict; rules take one of
// Delete, Anonymise or Review.
//
// The zero Action is not valid. An Action is a plain value and safe to
// share.
type Action uint8

// The actions and verdicts.
const (
	Keep      Action = iota + 1 // leave the data as it is
	Delete                      // delete the data
	Anonymise                   // remove what identifies the subject, keep the rest
	Review                      // ask a person to decide
)

var actionNames = [...]string{Keep: "keep", Delete: "delete", Anonymise: "anonymise", Review: "review"}

func (a Action) valid() bool { return a >= Keep && a <= Review }

// strength orders the disposal actions: when several rules are due, the
// one that removes most wins.
func (a Action) strength() int {
	switch a {
	case Delete:
		return 3
	case Anonymise:
		return 2
	case Review:
		return 1
	}
	return 0
}

// String returns the action's name, such as "anonymise".
func (a Action) String() string {
	if !a.valid() {
		return fmt.Sprintf("Action(%d)", uint8(a))
	}
	return actionNames[a]
}

// ParseAction parses the name String returns; "anonymize" is accepted too.
func ParseAction(s string) (Action, error) {
	if s == "anonymize" {
		return Anonymise, nil
	}
	for a := Keep; a <= Review; a++ {
		if actionNames[a] == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w: %s", ErrUnknownAction, quote.String(s))
}

// MarshalText implements [encoding.TextMarshaler].
func (a Action) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownAction, uint8(a))
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (a *Action) UnmarshalText(text []byte) error {
	v, err := ParseAction(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
