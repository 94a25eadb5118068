# strongroom container image: a static binary on an empty base, run as a
# non-root user, data in a volume.
#
#   docker build -t strongroom .
#   docker run -p 9000:9000 -v strongroom-data:/data strongroom
#
# The root key is generated into the volume on first start unless given
# (STRONGROOM_ROOT_KEY, or --root-key-file on a mounted secret); keep a copy
# of it apart from the volume and its backups.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary with every provider but PKCS#11, which needs the
# HSM vendor's C module (build with CGO_ENABLED=1 on a base that has it).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/strongroom ./cmd/strongroom \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/strongroom /strongroom
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 9000
ENTRYPOINT ["/strongroom"]
CMD ["serve", "--data", "/data", "--addr", ":9000"]
