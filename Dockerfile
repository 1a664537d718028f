# The CLI and service-mode image. goreleaser (.goreleaser.docker.yaml) builds the binary for
# the target platform and puts it in the build context; the image has nothing else.
#   docker run --rm -e BATON_BASE_URL -e BATON_API_TOKEN -v "$PWD:/data" IMAGE -f /data/sync.c1z
#   docker run -d -e BATON_BASE_URL -e BATON_API_TOKEN -e BATON_CLIENT_ID -e BATON_CLIENT_SECRET IMAGE -p
FROM gcr.io/distroless/static-debian12:nonroot
COPY baton-mattermost /baton-mattermost
WORKDIR /home/nonroot
ENTRYPOINT ["/baton-mattermost"]
