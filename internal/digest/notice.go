package digest

import (
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Notice is the digest as a notice to opts' recipients.
func (d *Digest) Notice(opts Options) inventory.Notice {
	sev := inventory.SeverityInfo
	if d.NeedCount() > 0 {
		sev = inventory.SeverityWarning
	}
	return inventory.Notice{Kind: inventory.NoticeDigest, Severity: sev, Key: "digest-" + day(d.At),
		Subject: d.Subject(), Text: d.Text(), Link: d.link("/"), Emails: opts.Emails, Channels: opts.Channels}
}

// Subject is the digest's one-line summary.
func (d *Digest) Subject() string {
	switch n, c := d.NeedCount(), d.ChangeCount(); {
	case n == 0 && c == 0:
		return "certkeeper digest " + day(d.At) + ": all quiet"
	case n == 0:
		return fmt.Sprintf("certkeeper digest %s: nothing needs action, %s", day(d.At), plural(c, "change"))
	case n == 1:
		return fmt.Sprintf("certkeeper digest %s: 1 thing needs action, %s", day(d.At), plural(c, "change"))
	default:
		return fmt.Sprintf("certkeeper digest %s: %s need action, %s", day(d.At), plural(n, "thing"), plural(c, "change"))
	}
}

// Text is the digest in plain text.
func (d *Digest) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "certkeeper digest for %s to %s (UTC)\n",
		d.Since.UTC().Format("2006-01-02 15:04"), d.At.UTC().Format("2006-01-02 15:04"))
	writeSections(&b, "Needs action", "Nothing needs action.", d.Needs)
	writeSections(&b, "What changed", "Nothing changed.", d.Changed)
	return b.String()
}

func writeSections(b *strings.Builder, title, none string, sections []Section) {
	fmt.Fprintf(b, "\n== %s ==\n", title)
	if len(sections) == 0 {
		fmt.Fprintln(b, none)
	}
	for _, s := range sections {
		fmt.Fprintf(b, "\n%s (%d)\n", s.Title, s.Total)
		for _, l := range s.Lines {
			fmt.Fprintf(b, "- %s\n", l.Text)
			if l.Link != "" {
				fmt.Fprintf(b, "  %s\n", l.Link)
			}
		}
		if more := s.Total - len(s.Lines); more > 0 {
			fmt.Fprintf(b, "- and %d more", more)
			if s.Link != "" {
				fmt.Fprintf(b, ": %s", s.Link)
			}
			fmt.Fprintln(b)
		}
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
