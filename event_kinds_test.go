package keel_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
)

// TestEventKindsListsEveryKind keeps EventKinds, the vocabulary of the
// audit log's queries and of the OpenAPI document, in step with the
// EventKind constants declared anywhere in the package.
func TestEventKindsListsEveryKind(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var declared []keel.EventKind
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				v := spec.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "EventKind" {
					continue
				}
				for _, val := range v.Values {
					if lit, ok := val.(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						declared = append(declared, keel.EventKind(s))
					}
				}
			}
		}
	}
	if len(declared) < 12 {
		t.Fatalf("found only %d EventKind constants: the parse is broken", len(declared))
	}
	listed := keel.EventKinds()
	for _, k := range declared {
		if !slices.Contains(listed, k) {
			t.Errorf("EventKind %q is declared but not in EventKinds()", k)
		}
	}
	if len(listed) != len(declared) {
		t.Errorf("EventKinds() has %d kinds, %d are declared", len(listed), len(declared))
	}
}
