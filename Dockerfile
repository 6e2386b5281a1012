# Builds one Rapport service image: docker build --build-arg SERVICE=scoring -t rapport/scoring:0.1.0 .
# SERVICE is one of profiles, ingestion, scoring, notifications; SERVICE=all
# builds the `rapport` all-in-one binary instead.
FROM rust:1.95-slim-bookworm AS build
ARG SERVICE=scoring
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eux; \
    if [ "$SERVICE" = all ]; then pkg=rapport; bin=rapport; else pkg="rapport-$SERVICE"; bin="rapport-$SERVICE"; fi; \
    cargo build --release --locked -p "$pkg" --bin "$bin"; \
    install -D "target/release/$bin" /out/service

# glibc, libgcc and CA certificates, no shell or package manager; runs as
# uid 65532. The binary is stripped by the release profile.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/service /usr/local/bin/service
USER 65532:65532
ENV RAPPORT_LISTEN=0.0.0.0:50051 RAPPORT_LOG_FORMAT=json
EXPOSE 50051
ENTRYPOINT ["/usr/local/bin/service"]
