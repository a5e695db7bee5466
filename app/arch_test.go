package app

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/383project/opsbot"

// TestDependencyRule enforces ARCHITECTURE.md's dependency rule on every
// non-test Go file, so a wrong import fails `make test`.
func TestDependencyRule(t *testing.T) {
	imports := map[string]map[string]bool{} // package dir → imported paths
	// The test runs in app/; the module root is its parent.
	err := fs.WalkDir(os.DirFS(".."), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "deploy") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", path), nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if imports[dir] == nil {
			imports[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			imports[dir][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(imports) < 6 {
		t.Fatalf("found only %d packages; is the module root the parent of app/?", len(imports))
	}
	own := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		rest, ok := strings.CutPrefix(p, module+"/")
		return rest, ok
	}
	under := func(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }
	for dir, imps := range imports {
		for imp := range imps {
			target, isOwn := own(imp)
			var why string
			switch {
			case (under(dir, "config") || under(dir, "chat") || under(dir, "chart") || under(dir, "metrics") || under(dir, "httpapi") || dir == "integrations" || dir == "bot/slacktest") && isOwn:
				why = "is a leaf: it imports no package of this module"
			case under(dir, "store") && isOwn && !(dir == "store/redistest" && target == "store"):
				why = "is a leaf: it imports no package of this module"
			case strings.HasPrefix(dir, "integrations/") && isOwn && target != "integrations" && !under(target, "integrations/awsapi") && !under(target, dir):
				why = "may import only the integrations package (and AWS ones integrations/awsapi and its clients)"
			case under(dir, "commands") && isOwn && (under(target, "jobs") || under(target, "bot") || strings.HasPrefix(target, "integrations/")):
				why = "must not import jobs, bot or a vendor package"
			case under(dir, "jobs") && isOwn && (under(target, "commands") || under(target, "bot") || strings.HasPrefix(target, "integrations/")):
				why = "must not import commands, bot or a vendor package"
			case under(dir, "bot") && dir != "bot/slacktest" && isOwn && (under(target, "jobs") || under(target, "store") || strings.HasPrefix(target, "integrations/")):
				why = "must not import jobs, store or a vendor package"
			case dir == "." && !(isOwn && target == "app") && imp != "context" && imp != "os":
				why = "is main.go alone: it imports app and nothing else of weight"
			case dir != "app" && !under(dir, "store") && (strings.HasPrefix(imp, "github.com/redis/go-redis") || strings.HasPrefix(imp, "github.com/alicebob/miniredis")):
				why = "must not construct Redis clients: only app and store do"
			}
			if why != "" {
				t.Errorf("%s imports %s, but %s %s (ARCHITECTURE.md)", dir, imp, dir, why)
			}
		}
	}
}
