package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// TestDocsLinkInsideTheRepository: the README and docs/ are read in a
// fresh clone, so every link in them leads to a file of the repository
// (that exists, and to a heading that exists), never outside it: no web
// address, no ../shared/... beside the clone.
func TestDocsLinkInsideTheRepository(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	if len(files) < 5 {
		t.Fatalf("found %d documents, want the README and docs/ (architecture, operations, configuration, slack-app)", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, f)
		for _, target := range docLinks(string(raw)) {
			if why := linkProblem(root, f, target); why != "" {
				t.Errorf("%s links to %q: %s", name, target, why)
			}
		}
	}
}

var (
	fence     = regexp.MustCompile("(?ms)^\\s*```.*?^\\s*```")
	codeSpan  = regexp.MustCompile("`[^`\n]*`")
	mdLink    = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLink   = regexp.MustCompile(`(?m)^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	autoLink  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]+)>`)
	bareURL   = regexp.MustCompile(`\b(?:https?|ftp)://[^\s)>\]]+|\bwww\.[a-z0-9-]+\.[a-z]{2,}`)
	hasScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// docLinks lists the link targets of a Markdown text outside code: inline
// and reference links, autolinks, and bare addresses (which GitHub links).
func docLinks(md string) []string {
	md = codeSpan.ReplaceAllString(fence.ReplaceAllString(md, ""), "")
	var out []string
	for _, re := range []*regexp.Regexp{mdLink, refLink, autoLink} {
		for _, m := range re.FindAllStringSubmatch(md, -1) {
			out = append(out, m[1])
		}
		md = re.ReplaceAllString(md, "")
	}
	return append(out, bareURL.FindAllString(md, -1)...)
}

// linkProblem says what is wrong with a link from file, or "".
func linkProblem(root, file, target string) string {
	if hasScheme.MatchString(target) || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "www.") {
		return "outside the repository"
	}
	path, anchor, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
		if rel, err := filepath.Rel(root, dest); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "outside the repository"
		}
		if _, err := os.Stat(dest); err != nil {
			return "no such file in the repository"
		}
	}
	if anchor != "" && strings.HasSuffix(dest, ".md") {
		raw, err := os.ReadFile(dest)
		if err != nil {
			return err.Error()
		}
		if !headingAnchors(string(raw))[anchor] {
			return "no heading #" + anchor + " there"
		}
	}
	return ""
}

// headingAnchors are the anchors GitHub gives a document's headings:
// lower case, punctuation dropped, spaces as hyphens.
func headingAnchors(md string) map[string]bool {
	anchors := map[string]bool{}
	for _, line := range strings.Split(fence.ReplaceAllString(md, ""), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(h) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		anchors[b.String()] = true
	}
	return anchors
}

// TestDocLinksFound: the link finder sees every kind of link and nothing in code.
func TestDocLinksFound(t *testing.T) {
	md := "See [a](docs/x.md#top), <https://a.example>, www.b.example, https://c.example/p and\n" +
		"[ref]: ../shared/docs/PRODUCT.md\n`https://in-code.example` and\n```\nhttps://in-a-block.example\n```\n"
	got := strings.Join(docLinks(md), " ")
	if want := "docs/x.md#top ../shared/docs/PRODUCT.md https://a.example www.b.example https://c.example/p"; got != want {
		t.Errorf("docLinks = %q, want %q", got, want)
	}
	root, _ := filepath.Abs("..")
	readme := filepath.Join(root, "README.md")
	for target, bad := range map[string]bool{"docs/operations.md#redis": false, "docs/operations.md#nowhere": true,
		"../shared/docs/PRODUCT.md": true, "docs/missing.md": true, "https://a.example": true, "deploy/helm/opsbot": false} {
		if why := linkProblem(root, readme, target); (why != "") != bad {
			t.Errorf("linkProblem(%q) = %q, want a problem: %v", target, why, bad)
		}
	}
}
