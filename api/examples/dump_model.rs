fn main() {
    for d in erd::load_all().unwrap() {
        let m = gateway::engine::model::Model::build(&d).unwrap();
        println!("## {}", m.domain);
        for e in m.entities.iter().filter(|e| e.exposed) {
            let rels: Vec<String> = e.relations.iter().map(|r| {
                let k = match &r.kind { gateway::engine::model::RelKind::BelongsTo{..} => "->", gateway::engine::model::RelKind::HasMany{..} => "=>", gateway::engine::model::RelKind::HasOne{..} => "-1", gateway::engine::model::RelKind::ManyToMany{..} => "<>" };
                format!("{}{}{}", r.gql, k, m.entities[r.target].name)
            }).collect();
            let cols: Vec<&str> = e.columns.iter().map(|c| c.name.as_str()).collect();
            println!("{} [{}] :: {}", e.name, cols.join(","), rels.join(" "));
        }
    }
}
