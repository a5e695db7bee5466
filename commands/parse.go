package commands

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextLen bounds what the parser reads; Slack caps slash command text far
// below this, so anything longer is refused rather than tokenised.
const MaxTextLen = 8000

// Tokenize splits slash command text into words. Double, single and "smart"
// quotes group words ("a b" → one word); Slack's angle-bracket forms
// (<@U123|name>, <https://x|label>, <#C1|ops>) stay whole even with spaces
// inside. An unclosed quote or bracket runs to the end of the text. Invalid
// UTF-8 is replaced, never rejected, so odd input cannot break the parser.
func Tokenize(text string) []string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	var (
		words []string
		cur   strings.Builder
		open  bool // inside a word (so "" yields an empty word)
	)
	flush := func() {
		if open {
			words = append(words, cur.String())
			cur.Reset()
			open = false
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsSpace(r):
			flush()
			i += size
		case r == '<':
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				end = len(text) - i - 1
			}
			cur.WriteString(text[i : i+end+1])
			open = true
			i += end + 1
		case closingQuote(r) != 0:
			closer := closingQuote(r)
			j := i + size
			end := strings.IndexRune(text[j:], closer)
			if end < 0 {
				end = len(text) - j
			}
			cur.WriteString(text[j : j+end])
			open = true
			i = j + end
			if i < len(text) {
				_, cs := utf8.DecodeRuneInString(text[i:])
				i += cs
			}
		default:
			cur.WriteRune(r)
			open = true
			i += size
		}
	}
	flush()
	return words
}

func closingQuote(r rune) rune {
	switch r {
	case '"':
		return '"'
	case '\'':
		return '\''
	case '“':
		return '”'
	case '‘':
		return '’'
	}
	return 0
}

var (
	mentionForm = regexp.MustCompile(`^<@([UW][A-Z0-9]{2,20})(?:\|([^>]*))?>$`)
	bareUserID  = regexp.MustCompile(`^[UW][A-Z0-9]{8,20}$`)
	handleForm  = regexp.MustCompile(`^@([\p{L}\p{N}._\-]{1,80})$`)
)

// UserRef is a person named in command text: an ID when Slack sent a
// mention (<@U123|name>) or a bare ID, otherwise a name to look up.
type UserRef struct {
	ID   string
	Name string
}

// ParseUserRef reads a mention, a bare user ID or an @handle.
func ParseUserRef(word string) (UserRef, bool) {
	if m := mentionForm.FindStringSubmatch(word); m != nil {
		return UserRef{ID: m[1], Name: m[2]}, true
	}
	if bareUserID.MatchString(word) {
		return UserRef{ID: word}, true
	}
	if m := handleForm.FindStringSubmatch(word); m != nil {
		return UserRef{Name: m[1]}, true
	}
	return UserRef{}, false
}
