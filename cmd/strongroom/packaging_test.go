package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackagingUsesRealFlags: every strongroom serve command line in
// packaging/ (the systemd units' ExecStart, commented or not, and the
// Containerfile's CMD and examples) names only flags serve has, and the
// Containerfile builds with the Go release go.mod asks for.
func TestPackagingUsesRealFlags(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if _, err := loadConfig(fs, nil); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, "packaging", "*"))
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range serveCommands(string(b)) {
			for _, name := range flagNames(cmd) {
				checked[filepath.Base(f)]++
				if fs.Lookup(name) == nil {
					t.Errorf("%s: strongroom serve has no flag --%s (in %q)", filepath.Base(f), name, cmd)
				}
			}
		}
	}
	for _, f := range []string{"strongroom.service", "strongroom@.service", "Containerfile"} {
		if checked[f] == 0 {
			t.Errorf("%s: no serve command line found", f)
		}
	}

	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVer := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	cf, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if goVer == nil || !strings.Contains(string(cf), "FROM golang:"+string(goVer[1])+"-") {
		t.Errorf("packaging/Containerfile does not build with go %s from go.mod", goVer[1])
	}
}

// serveCommands joins continued lines ("\" at the end, a leading "#"
// dropped) and returns what follows "serve" in those naming strongroom.
// A JSON exec form (CMD ["serve", "--data", …]) counts too.
func serveCommands(text string) []string {
	var out, cont []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cont = append(cont, s)
			continue
		}
		full := strings.Join(append(cont, line), " ")
		cont = nil
		if strings.HasPrefix(full, "CMD [") || strings.HasPrefix(full, "ENTRYPOINT [") {
			full = strings.NewReplacer(`"`, " ", ",", " ", "[", " ", "]", " ").Replace(full)
		}
		if _, after, ok := strings.Cut(full, " serve "); ok && (strings.Contains(full, "strongroom") || strings.HasPrefix(full, "CMD")) {
			out = append(out, after)
		}
	}
	return out
}

var flagToken = regexp.MustCompile(`(?:^|\s)--?([a-z0-9][a-z0-9-]*)`)

func flagNames(cmd string) []string {
	var names []string
	for _, m := range flagToken.FindAllStringSubmatch(cmd, -1) {
		names = append(names, m[1])
	}
	return names
}
