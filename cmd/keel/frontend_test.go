package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	indexHTML = "<!doctype html><title>the app</title><script type=module src=/assets/index-B4x9.js></script>"
	secret    = "TOP SECRET, outside the frontend"
)

// frontendDir builds what `npm run build` leaves in frontend/dist, plus a
// hidden file, a secret beside the directory and a link pointing at it.
func frontendDir(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	dist := filepath.Join(parent, "dist")
	files := map[string]string{
		"index.html":               indexHTML,
		"assets/index-B4x9.js":     "console.log('app')",
		"assets/index-Cq2z.css":    "body{margin:0}",
		"assets/logo-D1e2.svg":     "<svg xmlns='http://www.w3.org/2000/svg'/>",
		"assets/font-E5f6.woff2":   "wOF2",
		"favicon.png":              "\x89PNG\r\n\x1a\n",
		"robots.txt":               "User-agent: *",
		"manifest.webmanifest":     "{}",
		".env":                     "SECRET_KEY=" + secret,
		".git/config":              secret,
		"docs/index.html":          "<p>a directory of the app's own</p>",
		"empty/.keep":              "",
		"../secret.txt":            secret,
		"../dist-sibling/leak.txt": secret,
	}
	for name, content := range files {
		path := filepath.Join(dist, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../secret.txt", filepath.Join(dist, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(parent, "secret.txt"), filepath.Join(dist, "abs-leak.txt")); err != nil {
		t.Fatal(err)
	}
	return dist
}

func TestFrontend(t *testing.T) {
	dist := frontendDir(t)
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:", "KEEL_FRONTEND_DIR": dist})

	const (
		html  = "text/html; charset=utf-8"
		js    = "text/javascript; charset=utf-8"
		json  = "application/json; charset=utf-8"
		year  = "public, max-age=31536000, immutable"
		fresh = "no-cache"
	)
	notFound := `{"detail":"Not Found"}`
	tests := []struct {
		name, method, path       string
		status                   int
		contentType, cache, body string
	}{
		{"/ is index.html, revalidated at each use", "GET", "/", 200, html, fresh, indexHTML},
		{"index.html by name too", "GET", "/index.html", 200, html, fresh, indexHTML},
		{"an app route is index.html", "GET", "/items", 200, html, fresh, indexHTML},
		{"a nested app route with a query is index.html", "GET", "/admin/users/42?tab=items", 200, html, fresh, indexHTML},
		{"an app route with a trailing slash is index.html", "GET", "/settings/", 200, html, fresh, indexHTML},
		{"a hashed script is JavaScript, kept a year", "GET", "/assets/index-B4x9.js", 200, js, year, "console.log('app')"},
		{"a hashed stylesheet is CSS, kept a year", "GET", "/assets/index-Cq2z.css", 200, "text/css; charset=utf-8", year, "body{margin:0}"},
		{"an SVG is an image", "GET", "/assets/logo-D1e2.svg", 200, "image/svg+xml", year, ""},
		{"a font is a font", "GET", "/assets/font-E5f6.woff2", 200, "font/woff2", year, "wOF2"},
		{"a file outside assets/ is revalidated", "GET", "/favicon.png", 200, "image/png", fresh, ""},
		{"robots.txt is text", "GET", "/robots.txt", 200, "text/plain; charset=utf-8", fresh, "User-agent: *"},
		{"a web manifest has its type", "GET", "/manifest.webmanifest", 200, "application/manifest+json", fresh, "{}"},
		{"HEAD answers the headers", "HEAD", "/assets/index-B4x9.js", 200, js, year, ""},
		{"a missing asset is a 404, not the app", "GET", "/assets/index-old1.js", 404, json, "", notFound},
		{"a missing file with an extension is a 404", "GET", "/missing.png", 404, json, "", notFound},
		{"the assets directory is not listed", "GET", "/assets/", 404, json, "", notFound},
		{"another directory is not listed: it is an app route", "GET", "/empty/", 200, html, fresh, indexHTML},
		{"a directory's own index.html is not served for it", "GET", "/docs/", 200, html, fresh, indexHTML},
		{"a hidden file is not served", "GET", "/.env", 404, json, "", notFound},
		{"nothing under a hidden directory is served", "GET", "/.git/config", 404, json, "", notFound},
		{"a link to a file outside the directory is not followed", "GET", "/leak.txt", 404, json, "", notFound},
		{"an absolute link is not followed", "GET", "/abs-leak.txt", 404, json, "", notFound},
		{"a missing API route is the API's JSON 404", "GET", "/api/v1/nowhere", 404, json, "", notFound},
		{"a missing API route with a file's name is the API's 404", "GET", "/api/v1/app.js", 404, json, "", notFound},
		{"another API version is a JSON 404, not the app", "GET", "/api/v2/items/", 404, json, "", notFound},
		{"the API still answers", "GET", "/api/v1/utils/health-check/", 200, json, "", "true"},
		{"the API documentation is not shadowed", "GET", "/api/v1/docs", 200, html, "", "swagger-ui"},
		{"the app cannot be posted to", "POST", "/items", 405, json, "", `{"detail":"Method Not Allowed"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.do(t, tt.method, tt.path, "", nil, "")
			h := resp.Header
			if resp.StatusCode != tt.status || h.Get("Content-Type") != tt.contentType {
				t.Fatalf("%d %q, want %d %q: %.200s", resp.StatusCode, h.Get("Content-Type"), tt.status, tt.contentType, body)
			}
			if tt.cache != "" && h.Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control %q, want %q", h.Get("Cache-Control"), tt.cache)
			}
			if tt.status == 200 && tt.cache != "" && h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", h.Get("X-Content-Type-Options"))
			}
			if tt.method == "HEAD" && len(body) != 0 {
				t.Errorf("HEAD answered a body: %q", body)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body %.200q lacks %q", body, tt.body)
			}
			if strings.Contains(string(body), secret) {
				t.Errorf("the secret was served: %q", body)
			}
		})
	}

	t.Run("index.html answers a revalidation with 304", func(t *testing.T) {
		resp, _ := s.do(t, "GET", "/items", "", nil, "")
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		req, err := http.NewRequest("GET", s.base+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("%d, want 304", resp.StatusCode)
		}
	})

	t.Run("a rebuilt index.html is served at once", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dist, "index.html"), []byte("<title>rebuilt</title>"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, body := s.do(t, "GET", "/items", "", nil, ""); string(body) != "<title>rebuilt</title>" {
			t.Errorf("got %q", body)
		}
	})

	t.Run("the banner names the frontend", func(t *testing.T) {
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
		if want := "Frontend: " + s.base + "/ from " + dist + "\n"; !strings.Contains(s.out.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, s.out.String())
		}
	})
}

// TestFrontendPathTraversal sends raw request lines, which no client
// cleans first: none reaches a file outside the directory.
func TestFrontendPathTraversal(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:", "KEEL_FRONTEND_DIR": frontendDir(t)})
	addr := strings.TrimPrefix(s.base, "http://")
	for _, target := range []string{
		"/../secret.txt",
		"/assets/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2E%2E%2Fsecret.txt",
		"/assets/..%2f..%2fsecret.txt",
		"/..%5csecret.txt",
		"/assets/..%5c..%5csecret.txt",
		"/../dist-sibling/leak.txt",
		"/.%2e/secret.txt",
		"//../secret.txt",
		"/leak.txt",
		"/%00/../secret.txt",
		"/secret.txt%00.js",
		"../secret.txt",
		"*",
	} {
		t.Run(target+" does not escape", func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: keel\r\nConnection: close\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), secret) {
				t.Fatalf("%d: the secret was served", resp.StatusCode)
			}
			if resp.StatusCode == http.StatusOK && string(body) != indexHTML {
				t.Errorf("200 with %q, want the app or a refusal", body)
			}
		})
	}
}

// TestFrontendHandlerRefusesEscapes gives the handler paths that no
// ServeMux cleaned: it must hold on its own.
func TestFrontendHandlerRefusesEscapes(t *testing.T) {
	f, err := newFrontend(frontendDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/../secret.txt", "../secret.txt", "/assets/../../secret.txt", "/../dist-sibling/leak.txt", "/..\\secret.txt", "/leak.txt", "/abs-leak.txt", "/.env"} {
		t.Run(p+" is refused", func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/", nil)
			r.URL.Path = p
			f.ServeHTTP(w, r)
			if strings.Contains(w.Body.String(), secret) {
				t.Fatalf("%d: the secret was served", w.Code)
			}
			if w.Code == http.StatusOK && w.Body.String() != indexHTML {
				t.Errorf("200 with %q", w.Body.String())
			}
		})
	}
}

func TestFrontendDirMustHoldIndexHTML(t *testing.T) {
	empty := t.TempDir()
	notDir := filepath.Join(empty, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(empty, "index.html"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, dir, want string }{
		{"a directory without index.html is refused", t.TempDir(), "has no index.html (build the frontend into it first): no such file or directory"},
		{"a missing directory is refused", filepath.Join(empty, "missing"), "has no index.html"},
		{"a file is refused", notDir, "has no index.html"},
		{"an index.html that is a directory is refused", empty, "index.html is not a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServe(t, map[string]string{"DATABASE_URL": "memory:", "KEEL_FRONTEND_DIR": tt.dir})
			err := <-s.done
			close(s.done)
			if err == nil || !strings.HasPrefix(err.Error(), "KEEL_FRONTEND_DIR: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("serve returned %v, want KEEL_FRONTEND_DIR: ... %s", err, tt.want)
			}
		})
	}
}

func TestServeWithoutFrontend(t *testing.T) {
	s := startServe(t, map[string]string{"DATABASE_URL": "memory:"})
	for _, path := range []string{"/", "/items", "/index.html"} {
		resp, body := s.do(t, "GET", path, "", nil, "")
		if resp.StatusCode != http.StatusNotFound || string(body) != `{"detail":"Not Found"}` {
			t.Errorf("GET %s: %d %s, want the JSON 404", path, resp.StatusCode, body)
		}
	}
}
