module github.com/baton-mattermost/baton-mattermost

go 1.26

require github.com/conductorone/baton-sdk v0.25.0 // indirect
