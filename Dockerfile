# syntax=docker/dockerfile:1
# Builds the routerlogger binary and ships it in a small Debian image.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/routerlogger ./cmd/routerlogger

FROM debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates tzdata \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin routerlogger
COPY --from=build /out/routerlogger /usr/local/bin/routerlogger
USER routerlogger
EXPOSE 8080
ENTRYPOINT ["routerlogger"]
CMD ["serve"]
