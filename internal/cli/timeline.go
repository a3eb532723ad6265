package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) timelineCommand() *cobra.Command {
	var (
		weeks  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "timeline [--weeks 13]",
		Short: "Draw how many certificates expire in each coming week",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if weeks < 1 || weeks > 104 {
				return fmt.Errorf("--weeks must be between 1 and 104")
			}
			s, err := a.stack(cmd.Context())
			if err != nil {
				return err
			}
			w, err := s.Dashboard.Weeks(cmd.Context(), weeks)
			if err != nil {
				return err
			}
			tl := &timeline{Expired: w.Expired}
			for _, wk := range w.Weeks {
				tl.Weeks = append(tl.Weeks, timelineWeek{Start: wk.Start, Count: wk.Count})
			}
			if asJSON {
				return writeJSON(a.env.Stdout, tl)
			}
			tl.draw(a.env.Stdout)
			return nil
		},
	}
	cmd.Flags().IntVar(&weeks, "weeks", 13, "how many weeks ahead")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type timeline struct {
	Expired int            `json:"expired"`
	Weeks   []timelineWeek `json:"weeks"`
}

type timelineWeek struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// draw prints one bar per week, scaled to 40 columns.
func (tl *timeline) draw(w io.Writer) {
	peak := tl.Expired
	for _, wk := range tl.Weeks {
		peak = max(peak, wk.Count)
	}
	bar := func(n int) string {
		if n == 0 || peak == 0 {
			return ""
		}
		return strings.Repeat("█", max(1, n*40/peak))
	}
	fmt.Fprintf(w, "%-18s %6d %s\n", "already expired", tl.Expired, bar(tl.Expired))
	for _, wk := range tl.Weeks {
		label := "week of " + wk.Start.Format("Jan 02")
		fmt.Fprintf(w, "%-18s %6d %s\n", label, wk.Count, bar(wk.Count))
	}
}
