error("hotfix failed")
