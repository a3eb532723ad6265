package web

import "testing"

// TestLocalPath: the sign-in redirect target stays on this site; the
// classic open-redirect tricks all become "/".
func TestLocalPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/certificates?q=x", "/certificates?q=x"},
		{"/definitions/7#history", "/definitions/7#history"},
		{"/certificates?q=%2F%2Fevil.example", "/certificates?q=%2F%2Fevil.example"},
		{"/%2F%2Fevil.example", "/"}, // "//evil.example" once decoded
		{"", "/"},
		{"certificates", "/"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"/path\\..\\..\\evil", "/"},
		{"https://evil.example/", "/"},
		{"http:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,<script>", "/"},
		{" /evil", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/\x00/evil", "/"},
		{"/\x7f/evil", "/"},
		{"/\u0085/evil", "/"},
		{"/\xff/evil", "/"},
		{"@evil.example", "/"},
		{"/@evil.example", "/@evil.example"}, // a path on this site
		{"https:/evil.example", "/"},
		{"/.//evil.example", "/.//evil.example"}, // the browser keeps the host
	} {
		if got := localPath(tc.in); got != tc.want {
			t.Errorf("localPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
