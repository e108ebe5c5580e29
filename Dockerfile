# syntax=docker/dockerfile:1
#
# keel in a container: a static binary on a distroless image, run as a
# non-root user, with the SQLite file on a volume.
#
#   docker build -t keel .
#   docker run -p 8000:8000 -v keel-data:/data keel
#   docker exec -it <container> /keel createsuperuser -email you@example.com
#
# Set DATABASE_URL for PostgreSQL (the volume then stays empty). The image
# has no shell and no curl: `keel healthcheck` is the HEALTHCHECK. Build from
# a git clone to have `keel version` name the commit: the build stamps it
# from .git (a worktree's .git file is not enough; the version then says
# "(devel)").

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO_ENABLED=0: a static binary, which needs no libc (keel's SQLite is pure
# Go). -trimpath keeps the build machine's paths out of it; -s -w drop the
# symbol tables but not the build information `keel version` reads.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/keel ./cmd/keel \
 && /out/keel version \
 && mkdir -p /out/data

# static-debian12 holds CA certificates (for SMTP and PostgreSQL over TLS),
# time zones and the nonroot user (65532), and nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/keel /keel
# /data belongs to the nonroot user, and so does the volume Docker makes
# from it on first use.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV DATABASE_URL=sqlite:///data/keel.db \
    KEEL_ADDR=:8000
VOLUME ["/data"]
EXPOSE 8000
# healthcheck reads KEEL_ADDR as serve does (pass it -addr if serve gets one).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/keel", "healthcheck", "-timeout", "4s"]
ENTRYPOINT ["/keel"]
CMD ["serve"]
