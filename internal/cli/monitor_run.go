package cli

import (
	"context"
	"errors"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// monitorRunConcurrency is how many endpoints `monitor run` asks to be
// checked at once when it shows progress.
const monitorRunConcurrency = 8

func (a *app) monitorRunCommand() *cobra.Command {
	var asJSON, progress bool
	cmd := &cobra.Command{
		Use:   "run [ID...] [--json]",
		Short: "Check the endpoints given (every endpoint when none) now and print the results",
		Long: "run checks endpoints at once, whatever their next check time, and prints their results.\n" +
			"On a terminal (or with --progress) it shows a progress bar on standard error.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]int64, len(args))
			for i, s := range args {
				id, err := parseObjectID("endpoint", s)
				if err != nil {
					return err
				}
				ids[i] = id
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				show := (progress || a.env.StderrIsTerminal) && !asJSON
				es, err := a.runMonitor(ctx, c, ids, show)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, client.EndpointList{Items: es})
				}
				writeEndpoints(a.env.Stdout, es)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&progress, "progress", false, "show a progress bar even when standard error is not a terminal")
	return cmd
}

// runMonitor checks the endpoints: in one request, or, to show
// progress, one request per endpoint, a few at a time.
func (a *app) runMonitor(ctx context.Context, c *client.Client, ids []int64, show bool) ([]client.Endpoint, error) {
	if !show {
		l, err := c.RunMonitor(ctx, ids...)
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	}
	if len(ids) == 0 {
		l, err := c.ListEndpoints(ctx, client.EndpointFilter{})
		if err != nil {
			return nil, err
		}
		for _, e := range l.Items {
			ids = append(ids, e.ID)
		}
	}
	bar := progressbar.NewOptions(len(ids), progressbar.OptionSetWriter(a.env.Stderr),
		progressbar.OptionSetDescription("checking"), progressbar.OptionShowCount())
	out := make([]client.Endpoint, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, monitorRunConcurrency)
	for i, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			l, err := c.RunMonitor(ctx, id)
			if err == nil && len(l.Items) == 1 {
				out[i] = l.Items[0]
			}
			errs[i] = err
			mu.Lock()
			_ = bar.Add(1)
			mu.Unlock()
		})
	}
	wg.Wait()
	_ = bar.Finish()
	_, _ = a.env.Stderr.Write([]byte("\n"))
	return out, errors.Join(errs...)
}
