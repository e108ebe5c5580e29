package httpapi

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/keel-dev/keel"
	"github.com/swaggest/swgui/v5/static"
)

// docsContentSecurityPolicy is the Content-Security-Policy of the docs
// page: its scripts and styles come from the handler itself (Swagger UI is
// embedded, no CDN), it may call the API of its own origin, and nothing
// may frame it. Swagger UI sets inline style attributes, hence
// 'unsafe-inline' for styles only; there is no inline script.
const docsContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// docsPage is the interactive documentation page. Every URL in it is
// relative, so it works under any mount prefix: the page is {prefix}/docs,
// its assets {prefix}/docs/..., the document {prefix}/openapi.json.
const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API documentation</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`

// docsInit starts Swagger UI on the document next to the page.
//
// The page acts only as whom it shows: every request it makes omits
// cookies, neither sending nor storing them. Authorize sends the bearer
// token and Logout forgets it; without that, the session cookie the login
// route also sets (or one a frontend on the same origin set) would go on
// authenticating the page's requests after Logout. The interceptor sees
// every request: the document's, "Try it out"'s and the Authorize
// dialog's.
const docsInit = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      request.credentials = "omit";
      return request;
    }
  });
});
`

// serveDocs serves GET /docs and its assets, from Swagger UI embedded in
// the binary by github.com/swaggest/swgui.
func serveDocs(_ *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	h := w.Header()
	h.Set("Content-Security-Policy", docsContentSecurityPolicy)
	asset := r.PathValue("asset")
	switch asset {
	case "":
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		io.WriteString(w, docsPage)
		return nil
	case "init.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		io.WriteString(w, docsInit)
		return nil
	}
	return serveAsset(w, r, asset)
}

// redirectDocs sends GET /docs/ to the docs page. The page cannot be served
// there: its relative asset URLs (docs/...) would resolve under /docs/docs/.
// The Location is relative too, so it works under any mount prefix.
func redirectDocs(_ *api, w http.ResponseWriter, _ *http.Request, _ *keel.Session) error {
	// Not http.Redirect: it would make the Location absolute from the
	// (prefix-stripped) request path.
	w.Header().Set("Location", "../docs")
	w.WriteHeader(http.StatusMovedPermanently)
	return nil
}

var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".png": "image/png",
}

// serveAsset serves one embedded Swagger UI file, gzipped when the client
// accepts it.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) error {
	var typ string
	for ext, t := range assetTypes {
		if strings.HasSuffix(name, ext) {
			typ = t
		}
	}
	if typ == "" || strings.ContainsAny(name, "/\\") {
		return keel.Errorf(keel.NotFound, msgNotFound)
	}
	h := w.Header()
	if b, err := fs.ReadFile(static.FS, name); err == nil {
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Content-Type", typ)
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
		return nil
	}
	gz, err := fs.ReadFile(static.FS, name+".gz")
	if err != nil {
		return keel.Errorf(keel.NotFound, msgNotFound)
	}
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Content-Type", typ)
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(gz)))
		w.Write(gz)
		return nil
	}
	zr, err := gzip.NewReader(strings.NewReader(string(gz)))
	if err != nil {
		return err
	}
	_, err = io.Copy(w, zr)
	if err != nil {
		// The status is out; all that is left is to stop.
		panic(http.ErrAbortHandler)
	}
	return nil
}

func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
			if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
				return true
			}
		}
	}
	return false
}
