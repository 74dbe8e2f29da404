package plan_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Finding IDs are a closed list, and each is made in exactly one place of
// this package: every Finding literal names its ID by a constant of the
// list, and no constant is made in two places.
func TestEachFindingHasOneProducer(t *testing.T) {
	listed := map[string]bool{}
	for _, id := range plan.FindingIDs() {
		if listed[string(id)] {
			t.Errorf("%s listed twice", id)
		}
		listed[string(id)] = true
	}
	consts := map[string]string{} // constant name → ID
	producers := map[string][]string{}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A reference to an ID produces it, unless it only reads one: a
		// comparison, a switch case, the list itself.
		reading := map[*ast.Ident]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			mark := func(e ast.Expr) {
				if id, ok := e.(*ast.Ident); ok {
					reading[id] = true
				}
			}
			switch n := n.(type) {
			case *ast.ValueSpec:
				for _, name := range n.Names {
					reading[name] = true
				}
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "FindingID" {
					for i, v := range n.Values {
						if lit, ok := v.(*ast.BasicLit); ok {
							consts[n.Names[i].Name] = strings.Trim(lit.Value, `"`)
						}
					}
				}
			case *ast.FuncDecl:
				if n.Name.Name == "FindingIDs" {
					return false
				}
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					mark(n.X)
					mark(n.Y)
				}
			case *ast.CaseClause:
				for _, e := range n.List {
					mark(e)
				}
			case *ast.IndexExpr:
				mark(n.Index)
			case *ast.SelectorExpr:
				reading[n.Sel] = true // a field or method of the same name
			case *ast.Ident:
				if !reading[n] {
					producers[n.Name] = append(producers[n.Name], fset.Position(n.Pos()).String())
				}
			}
			return true
		})
	}
	for name := range producers {
		if _, ok := consts[name]; !ok {
			delete(producers, name) // another constant
		}
	}
	for name, id := range consts {
		if !listed[id] {
			t.Errorf("%s (%s) is not in FindingIDs", name, id)
		}
		switch n := len(producers[name]); {
		case n == 0:
			t.Errorf("%s (%s) is made nowhere", name, id)
		case n > 1:
			t.Errorf("%s (%s) is made in %d places: %v", name, id, n, producers[name])
		}
	}
	if len(consts) != len(listed) {
		t.Errorf("%d constants, %d listed", len(consts), len(listed))
	}
}
