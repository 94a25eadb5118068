package console

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/strongroom-dev/strongroom/internal/sse"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"bytes":      formatBytes,
	"int":        formatInt,
	"time":       formatTime,
	"ago":        ago,
	"encryption": encryptionLabel,
	"percent":    percent,
}

// formatBytes writes n in binary units ("1.5 MiB").
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatInt groups thousands ("12,345").
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago says how long before now t was, coarsely ("3 min ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "in " + coarse(-d)
	case d < 5*time.Second:
		return "just now"
	}
	return coarse(d) + " ago"
}

func coarse(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// encryptionLabel names a bucket default as S3 consoles do.
func encryptionLabel(c *sse.Config) string {
	if c == nil {
		return "None"
	}
	switch c.Mode {
	case sse.Managed:
		return "SSE-S3"
	case sse.KMS:
		return "SSE-KMS"
	}
	return string(c.Mode)
}

// percent is part of whole in whole percent, rounded down except that a
// non-zero part never shows as 0 % nor a partial whole as 100 %.
func percent(part, whole int64) int64 {
	if whole <= 0 {
		return 0
	}
	p := part * 100 / whole
	switch {
	case p == 0 && part > 0:
		return 1
	case p == 100 && part < whole:
		return 99
	}
	return p
}
