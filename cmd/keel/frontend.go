package main

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// frontend serves a built single-page app (KEEL_FRONTEND_DIR) from dir:
// its files as they are, and index.html for every other path that names
// no file, so that the app's own routes (/items, /login) load the app.
//
// Files are opened inside dir at each request (os.OpenInRoot), so neither
// "..", nor a symbolic link, nor a rebuilt directory escapes it or goes
// stale; names with a segment starting with "." (.env, .git) are never
// served; a directory is never listed.
type frontend struct {
	dir string
}

// Cache policies. Vite names the files under assets/ by their content's
// hash, so a name never changes content: browsers keep them for a year
// without asking. Anything else (index.html above all, which names the
// current assets) is revalidated at every use.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
	assetsDir       = "assets/"
)

// newFrontend checks that dir holds an index.html.
func newFrontend(dir string) (*frontend, error) {
	info, err := os.Stat(filepath.Join(dir, "index.html"))
	if err != nil {
		return nil, fmt.Errorf("%s has no index.html (build the frontend into it first): %w", dir, errors.Unwrap(err))
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s/index.html is not a file", dir)
	}
	return &frontend{dir: dir}, nil
}

func (f *frontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, `{"detail":"Method Not Allowed"}`)
		return
	}
	name, ok := frontendName(r.URL.Path)
	if !ok {
		notFound(w, r)
		return
	}
	if name != "" && f.serveFile(w, r, name) {
		return
	}
	// No such file. A name that looks like a file's (it has an extension,
	// or lies under assets/) is a missing file: an old asset, a typo. Any
	// other path is one of the app's routes.
	if strings.HasPrefix(name+"/", assetsDir) || path.Ext(name) != "" {
		notFound(w, r)
		return
	}
	if !f.serveFile(w, r, "index.html") {
		notFound(w, r) // index.html was removed since the start
	}
}

// frontendName is the file name a URL path asks for, relative to the
// directory ("" for the root); false when it may not be served: a segment
// starting with "." (hidden files, and any ".." left), a backslash or a
// NUL.
func frontendName(urlPath string) (string, bool) {
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if strings.ContainsAny(name, "\\\x00") {
		return "", false
	}
	for seg := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	return name, true
}

// serveFile serves the regular file name and reports whether there was
// one (false, having written nothing, for a directory or a missing file).
func (f *frontend) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	file, err := os.OpenInRoot(f.dir, name)
	if err != nil {
		return false
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", contentType(name))
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(name, assetsDir) {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	// A validator for revalidation: the size and modification time change
	// whenever a build rewrites the file.
	h.Set("ETag", `"`+strconv.FormatInt(info.Size(), 36)+"-"+strconv.FormatInt(info.ModTime().UnixNano(), 36)+`"`)
	http.ServeContent(w, r, name, info.ModTime(), file)
	return true
}

// frontendTypes are the types of the files a built single-page app has;
// the system's MIME table (which varies between machines) is consulted
// only for others.
var frontendTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".wasm":        "application/wasm",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
}

func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := frontendTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
