package consenthttp

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/consent"
)

// maxAcceptLanguage is how much of an Accept-Language header is read.
const maxAcceptLanguage = 512

// language picks the language of r: a "lang" query parameter of "en" or
// "nl", else the best of the two in Accept-Language, else def.
func language(r *http.Request, def string) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "nl" {
		return l
	}
	return acceptLanguage(r.Header.Get("Accept-Language"), def)
}

// acceptLanguage returns "en" or "nl", whichever the header prefers, or def
// if it names neither. Malformed entries are skipped.
func acceptLanguage(header, def string) string {
	if len(header) > maxAcceptLanguage {
		header = header[:maxAcceptLanguage]
	}
	best, bestQ := def, 0.0
	for entry := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(entry, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		primary, _, _ := strings.Cut(tag, "-")
		if primary != "en" && primary != "nl" {
			continue
		}
		q := 1.0
		if params != "" {
			k, v, ok := strings.Cut(strings.TrimSpace(params), "=")
			if !ok || strings.TrimSpace(k) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// words are the texts of the pages in one language.
type words struct {
	Code, Name string // "en", "English"

	PrefTitle, PrefIntro, Legend, Save, Saved string
	FixedHeading, FixedIntro                  string
	UnsubTitle, UnsubQuestion, UnsubButton    string
	UnsubDone, NotReceiving, ManageAll        string
	Statement, OtherLanguage                  string

	InvalidLink, ExpiredLink, NotIdentified, FormExpired string
	NoticeChanged, Erased, Refused, BadRequest, TooLarge string
	Failed, NotFound, WrongMethod, UnknownList           string

	Basis map[personaldata.LegalBasis]string
	Notes map[consent.Reason]string
}

var english = &words{
	Code: "en", Name: "English",

	PrefTitle:    "Your preferences",
	PrefIntro:    "Choose what we may use your data for. You can change this at any time.",
	Legend:       "What you can switch on or off",
	Save:         "Save my choices",
	Saved:        "Your choices have been saved.",
	FixedHeading: "What you cannot switch off",
	FixedIntro:   "We do these things for a reason that does not depend on your choice:",

	UnsubTitle:    "Unsubscribe",
	UnsubQuestion: "Do you want to stop receiving “%s”?",
	UnsubButton:   "Unsubscribe",
	UnsubDone:     "You have been unsubscribed.",
	NotReceiving:  "You do not receive “%s”.",
	ManageAll:     "Manage all your preferences",
	Statement:     "Privacy statement (version %s)",
	OtherLanguage: "Language",

	InvalidLink:   "This link is not valid. Use the link in one of our recent messages.",
	ExpiredLink:   "This link has expired. Use the link in one of our recent messages.",
	NotIdentified: "We do not know who you are. Open the link in one of our messages, or sign in.",
	FormExpired:   "This form has expired or did not come from this page. Nothing was changed; please check your choices and save again.",
	NoticeChanged: "Our privacy statement changed while you were choosing. Nothing more was changed; please check your choices and save again.",
	Erased:        "Your data has been erased, so we can no longer record choices for you.",
	Refused:       "This cannot be switched off.",
	BadRequest:    "This request is not valid. Nothing was changed.",
	TooLarge:      "This request is too large. Nothing was changed.",
	Failed:        "Something went wrong on our side, and your choice may not have been recorded. Please try again later.",
	NotFound:      "This page does not exist.",
	WrongMethod:   "This method is not allowed here.",
	UnknownList:   "We no longer send these messages.",

	Basis: map[personaldata.LegalBasis]string{
		personaldata.Contract:        "We need this to provide the service you agreed to (GDPR Art. 6(1)(b)), so you cannot switch it off.",
		personaldata.LegalObligation: "The law requires this of us (GDPR Art. 6(1)(c)), so you cannot switch it off.",
		personaldata.VitalInterests:  "This protects someone's vital interests (GDPR Art. 6(1)(d)), so you cannot switch it off.",
	},
	Notes: map[consent.Reason]string{
		consent.ReasonPrivacySignal:        "Off because your browser sends a privacy signal (Global Privacy Control).",
		consent.ReasonExpired:              "Your earlier consent has expired.",
		consent.ReasonFreshConsentRequired: "Our privacy statement changed; please choose again.",
		consent.ReasonRestricted:           "Processing is restricted at your request.",
		consent.ReasonGuardianRequired:     "This needs the consent of a parent or guardian.",
	},
}

var dutch = &words{
	Code: "nl", Name: "Nederlands",

	PrefTitle:    "Uw voorkeuren",
	PrefIntro:    "Kies waarvoor wij uw gegevens mogen gebruiken. U kunt dit altijd weer wijzigen.",
	Legend:       "Wat u aan of uit kunt zetten",
	Save:         "Mijn keuzes opslaan",
	Saved:        "Uw keuzes zijn opgeslagen.",
	FixedHeading: "Wat u niet kunt uitzetten",
	FixedIntro:   "Dit doen wij om een reden die niet van uw keuze afhangt:",

	UnsubTitle:    "Afmelden",
	UnsubQuestion: "Wilt u “%s” niet meer ontvangen?",
	UnsubButton:   "Afmelden",
	UnsubDone:     "U bent afgemeld.",
	NotReceiving:  "U ontvangt “%s” niet.",
	ManageAll:     "Al uw voorkeuren beheren",
	Statement:     "Privacyverklaring (versie %s)",
	OtherLanguage: "Taal",

	InvalidLink:   "Deze link is niet geldig. Gebruik de link uit een van onze recente berichten.",
	ExpiredLink:   "Deze link is verlopen. Gebruik de link uit een van onze recente berichten.",
	NotIdentified: "Wij weten niet wie u bent. Open de link uit een van onze berichten, of log in.",
	FormExpired:   "Dit formulier is verlopen of kwam niet van deze pagina. Er is niets gewijzigd; controleer uw keuzes en sla ze opnieuw op.",
	NoticeChanged: "Onze privacyverklaring is gewijzigd terwijl u koos. Er is verder niets gewijzigd; controleer uw keuzes en sla ze opnieuw op.",
	Erased:        "Uw gegevens zijn verwijderd, daarom kunnen wij geen keuzes meer voor u vastleggen.",
	Refused:       "Dit kunt u niet uitzetten.",
	BadRequest:    "Dit verzoek is niet geldig. Er is niets gewijzigd.",
	TooLarge:      "Dit verzoek is te groot. Er is niets gewijzigd.",
	Failed:        "Er ging bij ons iets mis, en uw keuze is misschien niet vastgelegd. Probeer het later opnieuw.",
	NotFound:      "Deze pagina bestaat niet.",
	WrongMethod:   "Deze methode is hier niet toegestaan.",
	UnknownList:   "Deze berichten sturen wij niet meer.",

	Basis: map[personaldata.LegalBasis]string{
		personaldata.Contract:        "Dit hebben wij nodig om de dienst te leveren die u met ons bent overeengekomen (AVG art. 6 lid 1 onder b). U kunt dit daarom niet uitzetten.",
		personaldata.LegalObligation: "De wet verplicht ons hiertoe (AVG art. 6 lid 1 onder c). U kunt dit daarom niet uitzetten.",
		personaldata.VitalInterests:  "Dit beschermt vitale belangen van iemand (AVG art. 6 lid 1 onder d). U kunt dit daarom niet uitzetten.",
	},
	Notes: map[consent.Reason]string{
		consent.ReasonPrivacySignal:        "Uit omdat uw browser een privacysignaal (Global Privacy Control) meestuurt.",
		consent.ReasonExpired:              "Uw eerdere toestemming is verlopen.",
		consent.ReasonFreshConsentRequired: "Onze privacyverklaring is gewijzigd; kies opnieuw.",
		consent.ReasonRestricted:           "De verwerking is op uw verzoek beperkt.",
		consent.ReasonGuardianRequired:     "Hiervoor is toestemming van een ouder of voogd nodig.",
	},
}

func wordsFor(lang string) *words {
	if lang == "nl" {
		return dutch
	}
	return english
}
