package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the repository's top directory, seen from this package.
const repoRoot = "../.."

var (
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeSpan = regexp.MustCompile("`([^`\\s]+)`")
	// repoTop are the top-level entries a path in a code span may start
	// with to be read as a path into this repository.
	repoTop = regexp.MustCompile(`^(\.\./|\./)?(cmd|internal|docs|scripts|packaging|\.ci)/`)
)

// TestDocsLinkOnlyIntoTheRepo: README.md and the pages under docs/ stand on
// their own. Every relative link, and every code span naming a path under
// one of the repository's top directories or starting with "../", must
// name a file or directory that exists inside the repository.
func TestDocsLinkOnlyIntoTheRepo(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, filepath.Join(root, "README.md"))
	for _, doc := range docs {
		for _, p := range docPaths(t, doc) {
			if msg := checkDocPath(root, doc, p); msg != "" {
				rel, _ := filepath.Rel(root, doc)
				t.Errorf("%s: %s", rel, msg)
			}
		}
	}
}

// docPaths returns the relative link targets and the path-like code spans
// of a Markdown file.
func docPaths(t *testing.T, doc string) []string {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
		target := m[1]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		out = append(out, target)
	}
	for _, m := range codeSpan.FindAllStringSubmatch(string(b), -1) {
		if repoTop.MatchString(m[1]) || strings.HasPrefix(m[1], "../") {
			out = append(out, m[1])
		}
	}
	return out
}

// checkDocPath says what is wrong with path p as named in doc ("" if
// nothing): links resolve from the doc's directory, code spans from it
// when they start with "./" or "../", else from the repository's top.
func checkDocPath(root, doc, p string) string {
	p, _, _ = strings.Cut(p, "#")
	p = strings.TrimSuffix(strings.TrimRight(p, ".,;:"), "/")
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return "absolute path " + p
	}
	base := root
	if strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || !repoTop.MatchString(p) {
		base = filepath.Dir(doc)
	}
	full := filepath.Join(base, filepath.FromSlash(p))
	if rel, err := filepath.Rel(root, full); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "path outside the repository: " + p
	}
	if _, err := os.Stat(full); err != nil {
		return "no such path in the repository: " + p
	}
	return ""
}

// TestCheckDocPath proves the checker catches what it must.
func TestCheckDocPath(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(root, "docs", "ARCHITECTURE.md")
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"../README.md", true},
		{"dialects.md", true},
		{"internal/sealed/doc.go", true},
		{"internal/sealed/", true},
		{"../../shared/DESIGN.md", false}, // outside the repository
		{"../shared/DESIGN.md", false},    // inside, but no such file
		{"internal/no-such-package", false},
		{"/etc/passwd", false},
	} {
		if msg := checkDocPath(root, doc, tc.path); (msg == "") != tc.ok {
			t.Errorf("checkDocPath(%q) = %q, want ok=%v", tc.path, msg, tc.ok)
		}
	}
}
