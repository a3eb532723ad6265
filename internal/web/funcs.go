package web

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"
)

// funcs are the template helpers.
var funcs = template.FuncMap{
	"date":     fmtDate,
	"datetime": fmtDateTime,
	"daysLeft": daysLeft,
	"withQuery": func(v *view, pairs ...string) string {
		return withQuery(v.Path, v.Query, pairs...)
	},
	"field": func(v *view, name string) string { return v.Fields[name] },
	"join":  strings.Join,
	"hexColons": func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += 2 {
			if i > 0 {
				b.WriteByte(':')
			}
			b.WriteString(strings.ToUpper(s[i:min(i+2, len(s))]))
		}
		return b.String()
	},
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	},
	"add":   func(a, b int) int { return a + b },
	"list3": func(a, b, c string) []string { return []string{a, b, c} },
	// repeat shows an alert rule's repeat interval as a Go duration.
	"repeat": func(seconds int64) string { return (time.Duration(seconds) * time.Second).String() },
	// pager packs what the "pager" partial needs: {{template "pager" (pager $ .Data.Next)}}.
	"pager": func(v *view, next string) pagerData {
		p := pagerData{}
		if next != "" {
			p.Next = withQuery(v.Path, v.Query, "after", next)
		}
		if v.Query.Get("after") != "" {
			p.First = withQuery(v.Path, v.Query)
		}
		return p
	},
}

// pagerData are the links under a list.
type pagerData struct{ Next, First string }

func fmtDate(t any) string {
	switch t := t.(type) {
	case time.Time:
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02")
	case *time.Time:
		if t == nil {
			return "—"
		}
		return fmtDate(*t)
	}
	return ""
}

func fmtDateTime(t any) string {
	switch t := t.(type) {
	case time.Time:
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	case *time.Time:
		if t == nil {
			return "—"
		}
		return fmtDateTime(*t)
	}
	return ""
}

// daysLeft is the number of whole days from now until t, negative once
// past.
func daysLeft(now, t time.Time) int {
	return int(math.Floor(t.Sub(now).Hours() / 24))
}

// withQuery returns path with the query q changed by pairs (key, value;
// an empty value removes the key). Changing a filter drops the page
// cursor unless the pairs set it.
func withQuery(path string, q url.Values, pairs ...string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	out.Del("after")
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			out.Del(pairs[i])
		} else {
			out.Set(pairs[i], pairs[i+1])
		}
	}
	if len(out) == 0 {
		return path
	}
	return path + "?" + out.Encode()
}
